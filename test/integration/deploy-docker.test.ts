import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { DockerRuntime } from '../../controller/src/runtime/index.js';
import { describeDocker } from '../helpers/docker.js';
import { buildRepoWorkerImage, chownTree, sleep, startDeployRig, startTraffic, timedRollback, type DeployRig, type Traffic } from './deploy-helpers.js';
import { cleanupProject as removeProjectLeftovers, removeImageTag } from '../helpers/runtime-fixtures.js';

const docker = new Docker();
const project = `deploy-docker-${process.pid}`;
const tag = `wvo-worker:${project}`;
let rig: DeployRig | undefined;
let traffic: Traffic | undefined;

const cleanupProject = () => removeProjectLeftovers(docker, project);

describeDocker('deploy: the happy path on the docker runtime', () => {
  beforeAll(async () => {
    await buildRepoWorkerImage(docker, project);
  }, 300_000);

  afterEach(async () => {
    await traffic?.close();
    await rig?.close();
    await cleanupProject();
    rig = undefined;
    traffic = undefined;
  });

  afterAll(async () => {
    await cleanupProject();
    await removeImageTag(docker, tag);
  });

  it('promotes blue → green containers under load, then rolls back, with 0 failed requests', async () => {
    rig = await startDeployRig({
      image: tag,
      runtime: () => new DockerRuntime({ project, readyTimeoutMs: 30_000, stopTimeoutMs: 5_000 }),
      afterSeed: chownTree,
    });
    const upgrade = rig.stage();
    traffic = await startTraffic(rig.proxy.url, { sessions: 50, writers: 2, intervalMs: 20, maxMs: 90_000 });
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
    expect(traffic.failures).toEqual([]);
    expect(traffic.failed).toBe(0);
    expect(await traffic.probeAll()).toBe(50);
    const [forward, back] = rig.deploy.runner.switches;
    console.log(`[deploy-docker] switch ${forward?.took_ms} ms, switch back ${back?.took_ms} ms, rollback after promotion: traffic on blue after ${trafficBackMs ?? 'n/a'} ms, whole command ${wholeMs} ms, sent ${traffic.sent}`);
  });
});
