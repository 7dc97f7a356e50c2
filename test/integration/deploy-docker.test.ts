import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DockerRuntime } from '../../controller/src/runtime/index.js';
import { describeDocker } from '../helpers/docker.js';
import { buildRepoWorkerImage, chownTree, timedRollback } from '../helpers/deploy-rig.js';
import { sleep } from '../helpers/sleep.js';
import { deployPerTest } from '../helpers/deploy-per-test.js';
import { expectNoFailedRequests } from '../helpers/no-failed-requests.js';
import { cleanupProject as removeProjectLeftovers, removeImageTag } from '../helpers/runtime-fixtures.js';

const docker = new Docker();
const project = `deploy-docker-${process.pid}`;
const tag = `wvo-worker:${project}`;

const cleanupProject = () => removeProjectLeftovers(docker, project);

describeDocker('deploy: the happy path on the docker runtime', () => {
  beforeAll(async () => {
    await buildRepoWorkerImage(docker, project);
  }, 300_000);

  const rigs = deployPerTest();

  afterAll(async () => {
    await cleanupProject();
    await removeImageTag(docker, tag);
  });

  it('promotes blue → green containers under load, then rolls back, with 0 failed requests', async () => {
    rigs.defer(cleanupProject); // after the rig closed: containers it may have lost track of
    const rig = await rigs.rig({
      image: tag,
      runtime: () => new DockerRuntime({ project, readyTimeoutMs: 30_000, stopTimeoutMs: 5_000 }),
      afterSeed: chownTree,
    });
    const upgrade = rig.stage();
    const traffic = await rigs.traffic(rig.proxy.url, { sessions: 50, writers: 2, intervalMs: 20, maxMs: 90_000 });
    await sleep(300);

    const promoted = await rig.deploy.operations.promote({ upgradeId: upgrade.id, observeMs: '2s', intervalMs: '500ms', flags: 'PROMPT_MODE', maxFailedChecks: 20, keepWarmMs: 0 });
    expect(promoted.state, JSON.stringify(promoted.rollback)).toBe('promoted');
    expect((await rig.admin.lanes()).active).toBe('green');
    expect((await rig.runtime.getLane('green'))?.runtime).toBe('docker');
    expect((await rig.runtime.getLane('blue'))?.status).toBe('stopped');

    const { record: rolled, wholeMs, trafficBackMs } = await timedRollback(rig, { reason: 'docker test' });
    expect(rolled.state).toBe('rolled_back');
    expect((await rig.admin.lanes()).active).toBe('blue');

    await sleep(800);
    await traffic.stop();
    expectNoFailedRequests(traffic);
    expect(await traffic.probeAll()).toBe(50);
    const [forward, back] = rig.deploy.runner.switches;
    console.log(`[deploy-docker] switch ${forward?.took_ms} ms, switch back ${back?.took_ms} ms, rollback after promotion: traffic on blue after ${trafficBackMs ?? 'n/a'} ms, whole command ${wholeMs} ms, sent ${traffic.sent}`);
  });
});
