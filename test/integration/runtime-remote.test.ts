import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectMcp } from '../../common/src/mcp-client.js';
import { DockerRuntime } from '../../controller/src/runtime/docker/docker-runtime.js';
import { snapshotLiveVolume } from '../../controller/src/runtime/docker/live-snapshot.js';
import { runLayout } from '../../controller/src/harness/steps/layout.js';
import { snapshotStep } from '../../controller/src/harness/steps/snapshot.js';
import { systemClock } from '../../common/src/clock.js';
import { silentLogger } from '../../common/src/logger.js';
import { describeDocker } from '../helpers/docker.js';
import { dispatchThrough, queueByStatus, taken } from '../helpers/live-state-probe.js';
import { startEngineB, type EngineB } from '../helpers/runtime-engine-b.js';
import { REPO_ROOT, buildTestImages, cleanupProject, seedState, testId, type TestImages } from '../helpers/runtime-fixtures.js';
import { runWvoCli } from '../helpers/cli.js';
import { liveHead, liveTraffic, replayedUpTo, SOAK_TOKEN, soakRig } from '../helpers/soak-rig.js';

const docker = new Docker();
const project = testId('rt-remote');
let images: TestImages | undefined;
let engine: EngineB | undefined;
let work: string;
let runtime: DockerRuntime;

describeDocker('docker runtime on a second engine (network namespace)', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'wvo-rt-remote-'));
    [images, engine] = await Promise.all([buildTestImages(docker, project), startEngineB()]);
    runtime = new DockerRuntime({ project, hosts: [{ name: 'hostb', docker: engine.url, network: 'auto' }], readyTimeoutMs: 30_000, stopTimeoutMs: 10_000 });
  }, 180_000);

  afterAll(async () => {
    // Each step runs even if an earlier one failed.
    const steps = [() => engine?.destroy(), () => cleanupProject(docker, project), () => images?.remove(), () => work && rmSync(work, { recursive: true, force: true })];
    const errors: unknown[] = [];
    for (const step of steps) await Promise.resolve().then(step).catch((error: unknown) => errors.push(error));
    if (errors.length) throw errors[0];
  }, 120_000);

  it('detects a host without a bridge network: lanes there use host networking', async () => {
    expect(await runtime.networkMode(runtime.host('hostb'))).toBe('host');
  });

  it('gets the image by transfer (same id) and serves a lane reachable at the host address', async () => {
    const events: string[] = [];
    const state = await seedState(join(work, 'remote'));
    const lane = await runtime.startLane({ name: 'remote', image: images!.worker, stateDir: state, host: 'hostb' }, { onProgress: (e) => events.push(e.phase) });
    expect(events).toContain('transfer');
    const localId = (await docker.getImage(images!.worker).inspect()).Id;
    expect((await engine!.docker.getImage(images!.worker).inspect()).Id).toBe(localId);
    expect(lane).toMatchObject({ host: 'hostb', status: 'ready', imageId: localId });
    expect(lane.url).toMatch(new RegExp(`^http://${engine!.address.replaceAll('.', '\\.')}:\\d+$`));
    const mcp = await connectMcp(lane.url!, 'remote-test');
    try {
      expect((await mcp.call('orchestrator_status')).isError).toBe(false);
    } finally {
      await mcp.close();
    }
    // A restarted controller finds it on that host, from labels.
    const fresh = new DockerRuntime({ project, hosts: [{ name: 'hostb', docker: engine!.url, network: 'auto' }] });
    expect((await fresh.listLanes()).map((l) => [l.name, l.host, l.url])).toEqual([['remote', 'hostb', lane.url]]);
    // The image is there now: a second transfer sends nothing.
    expect(await runtime.transferImage(images!.worker, 'hostb')).toMatchObject({ transferred: false, bytes: 0 });
    await runtime.removeLane('remote');
    expect(await runtime.listLanes({ host: 'hostb' })).toEqual([]);
  });

  it('blue and green share the live state volume on a volume-mode host: a write through blue is seen by green after the switch', async () => {
    // A project of its own: its live state volume is this test's alone.
    const app = `${project}-live`;
    const shared = new DockerRuntime({ project: app, hosts: [{ name: 'hostb', docker: engine!.url, network: 'auto' }], readyTimeoutMs: 30_000, stopTimeoutMs: 5000 });
    const volumes = async () => (await engine!.docker.listVolumes({ filters: { label: [`wvo.project=${app}`] } })).Volumes.map((v) => v.Name).sort();
    try {
      const state = await seedState(join(work, 'live'));
      const blue = await shared.startLane({ name: 'blue', image: images!.worker, stateDir: state, host: 'hostb' });
      const before = taken(await queueByStatus(blue.url!));
      await dispatchThrough(blue.url!, 2);
      // No --host: the default is this machine, but the live state is on hostb, so green goes there.
      const green = await shared.startLane({ name: 'green', image: images!.worker, stateDir: state });
      expect(green).toMatchObject({ host: 'hostb', status: 'ready', role: 'live' });
      // A write blue takes after green started (what a per-lane copy would lose).
      await dispatchThrough(blue.url!, 1);
      const mounts = async (lane: string) => (await engine!.docker.listContainers({ filters: { label: [`wvo.project=${app}`, `wvo.lane=${lane}`] } }))[0]!.Mounts.map((m) => m.Name);
      expect([await mounts('blue'), await mounts('green')]).toEqual([[`${app}-live-state`], [`${app}-live-state`]]);
      // The switch: blue stops, green serves; it has all three writes.
      await shared.stopLane('blue');
      expect(taken(await queueByStatus(green.url!))).toBe(before + 3);
      await dispatchThrough(green.url!, 1);
      // Rolled back the way promotions restart a lane (remove, start): blue reuses the volume and sees green's write.
      await shared.removeLane('blue');
      const again = await shared.startLane({ name: 'blue', image: images!.worker, stateDir: state });
      expect(taken(await queueByStatus(again.url!))).toBe(before + 4);
      // One volume, made once; the local source never saw a write.
      expect(await volumes()).toEqual([`${app}-live-state`]);
      const local = await shared.startLane({ name: 'local', image: images!.worker, stateDir: state, host: 'local' }).catch((e: unknown) => e);
      expect(local).toMatchObject({ code: 'WVO_STATE_LIVE_ELSEWHERE', subject: 'host', details: { holder: 'hostb' } });
      // Another state root in the same project on that host: refused, never mounted.
      const other = await shared.startLane({ name: 'other', image: images!.worker, stateDir: await seedState(join(work, 'live-other')), host: 'hostb' }).catch((e: unknown) => e);
      expect(other).toMatchObject({ code: 'WVO_STATE_REMOTE_EXISTS', subject: `${app}-live-state`, details: { source: state } });
      expect((await shared.listLanes()).map((l) => l.name)).toEqual(['blue', 'green']);
    } finally {
      for (const lane of await shared.listLanes().catch(() => [])) await shared.removeLane(lane.name).catch(() => undefined);
      await engine!.docker.getVolume(`${app}-live-state`).remove().catch(() => undefined);
      await shared.close();
    }
    expect(await volumes()).toEqual([]);
  });

  it('snapshots the live state volume on its host while blue writes: consistent, integrity ok, the rows blue answered; a missing volume is a coded error', async () => {
    const app = `${project}-snap`;
    const shared = new DockerRuntime({ project: app, hosts: [{ name: 'hostb', docker: engine!.url, network: 'auto' }], readyTimeoutMs: 30_000, stopTimeoutMs: 5000 });
    const leftovers = async () => ({
      volumes: (await engine!.docker.listVolumes({ filters: { label: [`wvo.project=${app}`] } })).Volumes.map((v) => v.Name).sort(),
      helpers: (await engine!.docker.listContainers({ all: true, filters: { label: ['wvo.state-helper=1', `wvo.project=${app}`] } })).length,
    });
    const dispatchIds = (file: string) => {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        return new Set((db.prepare('SELECT id FROM dispatches').all() as Array<{ id: number }>).map((r) => r.id));
      } finally {
        db.close();
      }
    };
    try {
      // No live state volume on hostb yet: the live state is this machine's state root.
      expect(await shared.snapshotLiveState({ destDir: join(work, 'snap-none') })).toBeUndefined();
      const state = await seedState(join(work, 'snap-live'), 400);
      const seeded = dispatchIds(join(state, 'orchestrator.db'));
      const blue = await shared.startLane({ name: 'blue', image: images!.worker, stateDir: state, host: 'hostb' });
      // Blue writes the whole time the snapshot is taken; every dispatch it answered is recorded.
      const answered: number[] = [];
      let writing = true;
      const mcp = await connectMcp(blue.url!, 'live-snapshot-writer');
      const writer = (async () => {
        while (writing) {
          const result = await mcp.call('dispatch', { agent: 'live-snapshot-writer' });
          if (result.isError) throw new Error(`dispatch failed: ${JSON.stringify(result.value)}`);
          answered.push((result.value as { dispatch_id: number }).dispatch_id);
        }
      })();
      let during: Awaited<ReturnType<DockerRuntime['snapshotLiveState']>>;
      let before: number;
      try {
        while (answered.length < 5) await new Promise((r) => setTimeout(r, 50));
        before = answered.length;
        during = await shared.snapshotLiveState({ destDir: join(work, 'snap-during') });
      } finally {
        writing = false;
        await writer.finally(() => mcp.close());
      }
      const after = answered.length;
      expect(during).toMatchObject({ host: 'hostb', volume: `${app}-live-state`, image: images!.worker, root: join(work, 'snap-during') });
      // It was taken while blue wrote (writes landed on both sides of it).
      expect(after).toBeGreaterThan(before);
      // One committed moment: every dispatch blue had answered before the snapshot started, and only dispatches blue answered.
      const got = [...dispatchIds(join(work, 'snap-during', 'orchestrator.db'))].filter((id) => !seeded.has(id)).sort((a, b) => a - b);
      expect(got).toEqual(answered.slice(0, got.length));
      expect(got.length).toBeGreaterThanOrEqual(before);
      const manifest = JSON.parse(readFileSync(join(work, 'snap-during', 'manifest.json'), 'utf8')) as { source_root: string; method: string; files: Array<{ path: string }> };
      expect(manifest).toMatchObject({ source_root: `host:hostb:${app}-live-state`, method: 'backup' });
      expect(manifest.files.map((f) => f.path)).toContain('orchestrator.db');
      // Through the upgrade's snapshot step: the copies come from the volume (every answered row), and steps.json says so.
      const layout = runLayout(join(work, 'snap-run'), 'r1');
      const step = await snapshotStep.run({ stateRoot: state, copies: layout.snapshots, live: { runtime: shared, liveDir: layout.liveSnapshot }, logger: silentLogger(), clock: systemClock }, () => undefined);
      expect(step.detail).toMatchObject({ source: { kind: 'live-volume', host: 'hostb', volume: `${app}-live-state` } });
      const copied = [...dispatchIds(join(layout.snapshots.baseline, 'orchestrator.db'))].filter((id) => !seeded.has(id)).sort((a, b) => a - b);
      expect(copied).toEqual(answered);
      // The local state root never saw those writes (what the step read before).
      expect(dispatchIds(join(state, 'orchestrator.db'))).toEqual(seeded);
      // A host without the volume: coded, naming host and volume; nothing left behind.
      const missing = await snapshotLiveVolume(await shared.ping('hostb'), { project: `${app}-gone`, destDir: join(work, 'snap-gone') }).catch((e: unknown) => e);
      expect(missing).toMatchObject({ code: 'WVO_STATE_LIVE_SNAPSHOT_MISSING', subject: `${app}-gone-live-state`, details: { host: 'hostb', volume: `${app}-gone-live-state` } });
      expect(await leftovers()).toEqual({ volumes: [`${app}-live-state`], helpers: 0 });
    } finally {
      for (const lane of await shared.listLanes().catch(() => [])) await shared.removeLane(lane.name).catch(() => undefined);
      await engine!.docker.getVolume(`${app}-live-state`).remove().catch(() => undefined);
      await shared.close();
    }
    expect(await leftovers()).toEqual({ volumes: [], helpers: 0 });
  });

  it('a soak of a live lane on a volume-mode host forks from the volume there (at the live head), replays with 0 differences, leaves nothing behind', async () => {
    const app = `${project}-soak`;
    const shared = new DockerRuntime({ project: app, hosts: [{ name: 'hostb', docker: engine!.url, network: 'auto' }], readyTimeoutMs: 30_000, stopTimeoutMs: 5000 });
    const leftovers = async () => ({
      volumes: (await engine!.docker.listVolumes({ filters: { label: [`wvo.project=${app}`] } })).Volumes.map((v) => v.Name).sort(),
      hostb: (await engine!.docker.listContainers({ all: true, filters: { label: [`wvo.project=${app}`] } })).length,
      local: (await docker.listContainers({ all: true, filters: { label: [`wvo.project=${app}`] } })).length,
      networks: (await docker.listNetworks({ filters: { label: [`wvo.project=${app}`] } })).length + (await engine!.docker.listNetworks({ filters: { label: [`wvo.project=${app}`] } })).length,
    });
    const r = await soakRig({ runtime: shared, baselineImage: images!.worker, host: 'hostb' });
    try {
      // Writes through the live lane land in its volume on hostb; the local state root (the seed) never sees them.
      const before = await liveTraffic(r.liveUrl, 1, 2);
      const head = await liveHead(r.liveUrl);
      expect(head).toBe(before);
      const ops = r.operations();
      const { record } = await ops.begin({ checkpointCalls: 10, checkpointEvery: '1h' });
      expect(record.fork_seq).toBe(head);
      expect(record.fork_source).toMatchObject({ kind: 'live-volume', host: 'hostb', volume: `${app}-live-state`, image: images!.worker });
      // The snapshot's scratch copy is gone once the forks are made.
      expect(existsSync(join(record.dir, 'live-snapshot'))).toBe(false);
      const status = await runWvoCli(['soak', 'status', '--runtime', 'local', '--json'], { cwd: r.root, env: { WVO_ADMIN_TOKEN: SOAK_TOKEN, WVO_LOG_LEVEL: 'warn' } });
      expect(status.code, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ soak: { id: record.id, fork_seq: head, fork_source: { kind: 'live-volume', host: 'hostb', volume: `${app}-live-state` } } });
      const driving = ops.drive(record.id);
      const writes = await liveTraffic(r.liveUrl, 2, 2);
      const end = await liveHead(r.liveUrl);
      expect(end - head).toBe(writes);
      await replayedUpTo(r.store, record.id, end, 120_000);
      await ops.stop(record.id);
      const ended = await driving;
      expect(ended.error).toBeNull();
      expect(ended).toMatchObject({ state: 'stopped', fork_seq: head, replayed: writes, answer_diffs: 0, state_diffs: 0 });
    } finally {
      await r.cleanup();
      await engine!.docker.getVolume(`${app}-live-state`).remove().catch(() => undefined);
      await shared.close();
      // The soak's project network (made on each engine its lanes ran on) goes with the test.
      await cleanupProject(docker, app);
      await cleanupProject(engine!.docker, app);
    }
    expect(await leftovers()).toEqual({ volumes: [], hostb: 0, local: 0, networks: 0 });
  }, 300_000);

  it('a remote host without an image the local engine lacks too: WVO_IMAGE_NOT_FOUND, nothing started', async () => {
    await expect(runtime.startLane({ name: 'ghost', image: 'wvo-no-such-image:0', stateDir: work, host: 'hostb' })).rejects.toMatchObject({ code: 'WVO_IMAGE_NOT_FOUND' });
    expect(await engine!.docker.listContainers({ all: true })).toEqual([]);
  });

  it('wvo hosts check / lane start --host / lanes / lane stop work against both engines from the CLI', async () => {
    // This is about the CLI across two engines: the netns host shares this filesystem, so its lanes
    // bind-mount their state as before (remote state copies: runtime-engines.test.ts).
    writeFileSync(join(work, 'wvo.config.json'), JSON.stringify({ projectName: project, runtime: 'docker', hosts: [{ name: 'hostb', docker: engine!.url, state: 'bind' }] }));
    const cli = async (...args: string[]) => {
      const result = await execa(process.execPath, [join(REPO_ROOT, 'dist/controller/src/cli/main.js'), ...args, '--json'], { cwd: work, reject: false, env: { WVO_CONFIG: '' } });
      expect(result.exitCode, `${args.join(' ')}: ${result.stdout} ${result.stderr}`).toBe(0);
      return JSON.parse(result.stdout) as Record<string, unknown>;
    };
    const hosts = (await cli('hosts', 'check')).hosts as Array<{ name: string; ok: boolean; network: string }>;
    expect(hosts.map((h) => [h.name, h.ok, h.network])).toEqual([['local', true, 'bridge'], ['hostb', true, 'host']]);
    await cli('lane', 'start', '--name', 'near', '--image', images!.worker, '--state', await seedState(join(work, 'near')));
    await cli('lane', 'start', '--name', 'far', '--image', images!.worker, '--state', await seedState(join(work, 'far')), '--host', 'hostb', '--dry-run', '--role', 'shadow-replica');
    const lanes = (await cli('lanes')).lanes as Array<{ name: string; host: string; status: string; dryRun: boolean }>;
    expect(lanes.map((l) => [l.name, l.host, l.status, l.dryRun])).toEqual([['far', 'hostb', 'ready', true], ['near', 'local', 'ready', false]]);
    await cli('lane', 'stop', 'far', '--remove');
    await cli('lane', 'stop', 'near', '--remove');
    expect((await cli('lanes')).lanes).toEqual([]);
  });
});
