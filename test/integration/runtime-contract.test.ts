import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { describe } from 'vitest';
import { DockerRuntime } from '../../controller/src/runtime/docker/docker-runtime.js';
import { LocalRuntime } from '../../controller/src/runtime/local/local-runtime.js';
import { describeDocker } from '../helpers/docker.js';
import { contract } from '../helpers/runtime-contract.js';
import { REPO_ROOT, buildTestImages, cleanupProject, makeFakeWorkerTree, testId, type TestImages } from '../helpers/runtime-fixtures.js';

const READY_MS = 20_000;

// --- docker ---
const docker = new Docker();
const project = testId('rt-contract');
let images: TestImages | undefined;
contract(
  'docker',
  describeDocker,
  async () => {
    images = await buildTestImages(docker, project);
    return {
      make: () => new DockerRuntime({ project, readyTimeoutMs: READY_MS, stopTimeoutMs: 5000 }),
      worker: images.worker,
      fake: images.fake,
      leftovers: async () => (await docker.listContainers({ all: true, filters: { label: [`wvo.project=${project}`] } })).length,
    };
  },
  async () => {
    await cleanupProject(docker, project);
    await images?.remove();
  },
);

// --- local ---
const runDir = mkdtempSync(join(tmpdir(), 'wvo-local-lanes-'));
const fakeTree = makeFakeWorkerTree();
contract(
  'local',
  describe,
  async () => ({
    make: () => new LocalRuntime({ runDir, trees: { 'wvo-worker:contract': REPO_ROOT, 'wvo-fake-worker:contract': fakeTree }, readyTimeoutMs: READY_MS, stopTimeoutMs: 5000 }),
    worker: 'wvo-worker:contract',
    fake: 'wvo-fake-worker:contract',
    leftovers: async () => 0,
  }),
  async () => {
    rmSync(runDir, { recursive: true, force: true });
    rmSync(fakeTree, { recursive: true, force: true });
  },
);
