import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DockerRuntime } from '../../controller/src/runtime/index.js';
import { describeDocker } from '../helpers/docker.js';
import { buildTestImages, cleanupProject, testId, type TestImages } from '../helpers/runtime-fixtures.js';
import { liveHead, liveTraffic, replayedUpTo, soakRig } from '../helpers/soak-rig.js';

process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

const docker = new Docker();
const project = testId('soak-docker');
let images: TestImages;
let runtime: DockerRuntime;

/** The soak with every lane a container: live, baseline replica and candidate (state bind-mounted). */
describeDocker('soak on Docker', () => {
  beforeAll(async () => {
    images = await buildTestImages(docker, project);
    runtime = new DockerRuntime({ project, readyTimeoutMs: 30_000, stopTimeoutMs: 10_000 });
  }, 300_000);

  afterAll(async () => {
    await cleanupProject(docker, project);
    await images?.remove();
    await runtime?.close();
  });

  it('forks a live container\'s state, replays its journal to two sandbox containers, 0 differences', async () => {
    const r = await soakRig({ runtime, baselineImage: images.worker });
    try {
      const ops = r.operations();
      const { record } = await ops.begin({ checkpointCalls: 10, checkpointEvery: '1h' });
      const driving = ops.drive(record.id);
      const writes = await liveTraffic(r.liveUrl, 2, 3);
      const head = await liveHead(r.liveUrl);
      expect(head - record.fork_seq).toBe(writes);
      await replayedUpTo(r.store, record.id, head, 120_000);
      const lanes = await runtime.listLanes();
      expect(lanes.filter((lane) => lane.mode === 'sandbox').map((lane) => lane.name).sort()).toEqual([record.lanes.candidate, record.lanes.replica].sort());
      await ops.stop(record.id);
      const ended = await driving;
      expect(ended.error).toBeNull();
      expect(ended).toMatchObject({ state: 'stopped', replayed: writes, answer_diffs: 0, state_diffs: 0 });
      expect(ended.checkpoints).toBeGreaterThanOrEqual(2);
    } finally {
      await r.cleanup();
    }
  }, 300_000);
});
