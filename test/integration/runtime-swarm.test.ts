import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HostConfig } from '../../controller/src/config/schema.js';
import { SwarmRuntime, type SwarmNodeConfig } from '../../controller/src/runtime/swarm/swarm-runtime.js';
import { describeDocker, dockerIsUp } from '../helpers/docker.js';
import { dispatchThrough, queueByStatus, taken } from '../helpers/live-state-probe.js';
import { contract } from '../helpers/runtime-contract.js';
import { startSwarmPair, type SwarmPair } from '../helpers/runtime-engine-b.js';
import { buildTestImages, cleanupProject, seedState, testId, type TestImages } from '../helpers/runtime-fixtures.js';

/**
 * The swarm runtime on a real two-node swarm of namespace engines (the host engine never enters
 * swarm mode, so other tests on it are unaffected): the shared lane contract, placement by node
 * label, and the config errors. No routing mesh: lanes are reached at their node's address and
 * the port published in host mode.
 */
const docker = new Docker();
const project = testId('rt-swarm');
let images: TestImages | undefined;
let pair: SwarmPair | undefined;
let work: string;
const runtimes: SwarmRuntime[] = [];

const hosts = (): HostConfig[] => [
  { name: 'mgr', docker: pair!.manager.url, network: 'auto' },
  { name: 'wkr', docker: pair!.worker.url, network: 'auto' },
];

function swarmRuntime(overrides: { manager?: string; nodes?: SwarmNodeConfig[]; hosts?: HostConfig[]; project?: string } = {}): SwarmRuntime {
  const runtime = new SwarmRuntime({
    project: overrides.project ?? project,
    hosts: overrides.hosts ?? hosts(),
    manager: overrides.manager ?? 'mgr',
    // The worker node first: lanes without --host go to the node that is not the manager.
    nodes: overrides.nodes ?? [
      { label: pair!.labels.worker, host: 'wkr' },
      { label: pair!.labels.manager, host: 'mgr' },
    ],
    readyTimeoutMs: 30_000,
    stopTimeoutMs: 5000,
  });
  runtimes.push(runtime);
  return runtime;
}

const services = async () => (await pair!.manager.docker.listServices({ filters: { label: [`wvo.project=${project}`] } })).length;
const containersOn = async (engine: 'manager' | 'worker', lane?: string) =>
  (await pair![engine].docker.listContainers({ all: true, filters: { label: [`wvo.project=${project}`, ...(lane ? [`wvo.lane=${lane}`] : [])] } })).length;

if (dockerIsUp) {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'wvo-rt-swarm-'));
    const started = Date.now();
    [images, pair] = await Promise.all([buildTestImages(docker, project), startSwarmPair({ net: '10.214' })]);
    console.log(`[swarm] two-node swarm ready in ${pair.setupMs} ms; setup total ${Date.now() - started} ms`);
  }, 180_000);

  afterAll(async () => {
    const steps = [...runtimes.map((r) => () => r.close()), () => pair?.destroy(), () => cleanupProject(docker, project), () => images?.remove(), () => work && rmSync(work, { recursive: true, force: true })];
    const errors: unknown[] = [];
    for (const step of steps) await Promise.resolve().then(step).catch((error: unknown) => errors.push(error));
    if (errors.length) throw errors[0];
  }, 120_000);
}

contract(
  'swarm',
  describeDocker,
  async () => ({
    make: () => swarmRuntime(),
    worker: images!.worker,
    fake: images!.fake,
    leftovers: async () => (await services()) + (await containersOn('manager')) + (await containersOn('worker')),
    urlPattern: new RegExp(`^http://${pair!.worker.address.replaceAll('.', '\\.')}:\\d+$`),
    // A swarm lane is ready later than a container: the manager schedules the task on a nested
    // namespace engine, the task turns `running` only after its healthcheck passes, and then
    // /readyz is probed. Measured 24.9 s alone on this loaded 2-core machine (docker: under 20 s).
    readyMs: 45_000,
  }),
  async () => undefined,
);

describeDocker('swarm runtime: placement and config errors', () => {
  it('places a lane on the node named by its label; its state volume and container are on that node only', async () => {
    const runtime = swarmRuntime();
    const started = Date.now();
    const lane = await runtime.startLane({ name: 'placed', image: images!.worker, stateDir: await seedState(join(work, 'placed')), host: pair!.labels.manager, role: 'shadow-replica', dryRun: true });
    console.log(`[swarm] lane on the manager node ready in ${Date.now() - started} ms`);
    expect(lane).toMatchObject({ runtime: 'swarm', host: pair!.labels.manager, status: 'ready' });
    expect(lane.url).toMatch(new RegExp(`^http://${pair!.manager.address.replaceAll('.', '\\.')}:\\d+$`));
    expect((await fetch(`${lane.url}/readyz`)).status).toBe(200);
    expect([await containersOn('manager', 'placed'), await containersOn('worker', 'placed')]).toEqual([1, 0]);
    const volumes = async (engine: 'manager' | 'worker') => (await pair![engine].docker.listVolumes({ filters: { label: [`wvo.lane=placed`] } })).Volumes.length;
    expect([await volumes('manager'), await volumes('worker')]).toEqual([1, 0]);
    expect((await runtime.listLanes({ host: pair!.labels.manager })).map((l) => l.name)).toEqual(['placed']);
    expect(await runtime.listLanes({ host: pair!.labels.worker })).toEqual([]);
    await runtime.removeLane('placed');
    expect([await services(), await containersOn('manager'), await volumes('manager')]).toEqual([0, 0, 0]);
  });

  it('live lanes share one live state volume on its node: green follows blue there; a write through blue is seen by green after the switch', async () => {
    const app = `${project}-live`;
    const runtime = swarmRuntime({ project: app });
    const volumesOn = async (engine: 'manager' | 'worker') => (await pair![engine].docker.listVolumes({ filters: { label: [`wvo.project=${app}`] } })).Volumes.map((v) => v.Name);
    try {
      const state = await seedState(join(work, 'live'));
      // Blue on the manager node: not the default node, so green can only get there by following the volume.
      const blue = await runtime.startLane({ name: 'blue', image: images!.worker, stateDir: state, host: pair!.labels.manager }, { readyTimeoutMs: 45_000 });
      const before = taken(await queueByStatus(blue.url!));
      await dispatchThrough(blue.url!, 2);
      const green = await runtime.startLane({ name: 'green', image: images!.worker, stateDir: state }, { readyTimeoutMs: 45_000 });
      expect(green).toMatchObject({ host: pair!.labels.manager, status: 'ready', role: 'live' });
      expect(green.url).toMatch(new RegExp(`^http://${pair!.manager.address.replaceAll('.', '\\.')}:\\d+$`));
      await dispatchThrough(blue.url!, 1);
      await runtime.stopLane('blue');
      expect(taken(await queueByStatus(green.url!))).toBe(before + 3);
      expect([await volumesOn('manager'), await volumesOn('worker')]).toEqual([[`${app}-live-state`], []]);
      // wvo upgrade's snapshot of it is taken on its node (not the stale local state root), with what green answers.
      const snap = await runtime.snapshotLiveState({ destDir: join(work, 'live-snap') });
      expect(snap).toMatchObject({ host: 'mgr', volume: `${app}-live-state`, image: images!.worker });
      const db = new Database(join(work, 'live-snap', 'orchestrator.db'), { readonly: true, fileMustExist: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect((db.prepare("SELECT count(*) AS n FROM tasks WHERE status != 'open'").get() as { n: number }).n).toBe(before + 3);
      } finally {
        db.close();
      }
      // Its scratch volume and helpers are gone from the node.
      expect([await volumesOn('manager'), await volumesOn('worker')]).toEqual([[`${app}-live-state`], []]);
      await expect(runtime.startLane({ name: 'elsewhere', image: images!.worker, stateDir: state, host: pair!.labels.worker })).rejects.toMatchObject({
        code: 'WVO_STATE_LIVE_ELSEWHERE',
        subject: 'host',
        details: { holder: pair!.labels.manager },
      });
      expect((await runtime.listLanes()).map((l) => l.name)).toEqual(['blue', 'green']);
    } finally {
      for (const lane of await runtime.listLanes().catch(() => [])) await runtime.removeLane(lane.name).catch(() => undefined);
      await pair!.manager.docker.getVolume(`${app}-live-state`).remove().catch(() => undefined);
    }
    expect([await volumesOn('manager'), await volumesOn('worker')]).toEqual([[], []]);
  });

  it('a manager that is not one, an unknown node label: coded errors naming the config path; nothing started', async () => {
    const state = await seedState(join(work, 'bad'));
    const spec = { name: 'bad', image: images!.worker, stateDir: state };
    // The host engine is not in swarm mode (and stays so); the worker is in the swarm but not a manager.
    await expect(swarmRuntime({ manager: 'local' }).startLane(spec)).rejects.toMatchObject({ code: 'WVO_SWARM_NOT_INITIALISED', subject: 'swarm.manager' });
    await expect(swarmRuntime({ manager: 'wkr' }).startLane(spec)).rejects.toMatchObject({ code: 'WVO_SWARM_NOT_INITIALISED', subject: 'swarm.manager', details: { host: 'wkr' } });
    const unlabelled = swarmRuntime({ nodes: [{ label: pair!.labels.worker, host: 'wkr' }, { label: 'nowhere', host: 'mgr' }] });
    await expect(unlabelled.startLane(spec)).rejects.toMatchObject({ code: 'WVO_SWARM_NODE_UNKNOWN', subject: 'swarm.nodes[1].label' });
    await expect(swarmRuntime().startLane({ ...spec, host: 'elsewhere' })).rejects.toMatchObject({ code: 'WVO_SWARM_NODE_UNKNOWN', subject: 'elsewhere' });
    expect(() => swarmRuntime({ nodes: [{ label: 'x', host: 'no-such-host' }] })).toThrow(expect.objectContaining({ code: 'WVO_HOST_UNKNOWN' }));
    expect(await services()).toBe(0);
    expect((await docker.info()).Swarm?.LocalNodeState).toBe('inactive');
  });
});
