import { chownSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { DockerRuntime } from '../../controller/src/runtime/index.js';
import { buildImages } from '../../controller/src/runtime/images/image-build.js';
import { describeDocker } from '../helpers/docker.js';
import { REPO_ROOT, sleep, startDeployRig, startTraffic, type DeployRig, type Traffic } from './deploy-helpers.js';
import { removeImageTag } from '../helpers/runtime-fixtures.js';

const docker = new Docker();
const project = `deploy-docker-${process.pid}`;
const tag = `wvo-worker:${project}`;
let rig: DeployRig | undefined;
let traffic: Traffic | undefined;

/** Remove every container and network labelled with this project, even half-started ones. */
async function cleanupProject(): Promise<void> {
  const label = [`wvo.project=${project}`];
  for (const c of await docker.listContainers({ all: true, filters: { label } }).catch(() => [])) {
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
  for (const n of await docker.listNetworks({ filters: { label } }).catch(() => [])) {
    await docker.getNetwork(n.Id).remove().catch(() => undefined);
  }
}

/** The container runs as 1000:1000 and must own the live state. */
function chownTree(dir: string): void {
  chownSync(dir, 1000, 1000);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) chownTree(path);
    else chownSync(path, 1000, 1000);
  }
}

describeDocker('deploy: the happy path on the docker runtime', () => {
  beforeAll(async () => {
    await buildImages(docker, {
      root: REPO_ROOT,
      tag: project,
      kinds: ['worker'],
      nodeImage: 'node:20-bookworm-slim',
      pull: false,
      baseImage: 'wvo-node-base',
      repositories: { worker: 'wvo-worker', controller: 'wvo-controller' },
    });
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

    const promoted = await rig.deploy.operations.promote({ upgradeId: upgrade.id, observeMs: '2s', intervalMs: '500ms', flags: 'PROMPT_MODE', maxFailedChecks: 20 });
    expect(promoted.state, JSON.stringify(promoted.rollback)).toBe('promoted');
    expect((await rig.admin.lanes()).active).toBe('green');
    expect((await rig.runtime.getLane('green'))?.runtime).toBe('docker');
    expect((await rig.runtime.getLane('blue'))?.status).toBe('stopped');

    const started = performance.now();
    const startedAt = Date.now();
    const rolled = await rig.deploy.operations.rollback({ reason: 'docker test' });
    const rollbackMs = performance.now() - started;
    expect(rolled.state).toBe('rolled_back');
    expect((await rig.admin.lanes()).active).toBe('blue');

    await sleep(800);
    await traffic.stop();
    expect(traffic.failures).toEqual([]);
    expect(traffic.failed).toBe(0);
    expect(await traffic.probeAll()).toBe(50);
    const [forward, back] = rig.deploy.runner.switches;
    console.log(`[deploy-docker] switch ${forward?.took_ms} ms, switch back ${back?.took_ms} ms, rollback after promotion: traffic on blue after ${back ? Date.parse(back.at) - startedAt : 'n/a'} ms, whole command ${Math.round(rollbackMs)} ms, sent ${traffic.sent}`);
  });
});
