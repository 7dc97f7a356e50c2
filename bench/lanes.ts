/**
 * Lanes benchmark: `npx tsx bench/lanes.ts [--runs 5] [--skip-remote]` (needs a Docker engine and root
 * for the second engine). Measures:
 *  1. image build: cold (no layer cache, no deps archive) vs warm after a code-only change;
 *  2. startLane → ready, docker vs local, median of N;
 *  3. image transfer (save → load) to a second engine in a network namespace, MB/s.
 * Everything it creates (tags, containers, the engine, temp trees) is removed at the end.
 */
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { DockerRuntime } from '../controller/src/runtime/docker/docker-runtime.js';
import { buildImage, resolveNodeImage } from '../controller/src/runtime/images/image-build.js';
import type { LaneRuntime } from '../controller/src/runtime/lane-runtime.js';
import { LocalRuntime } from '../controller/src/runtime/local/local-runtime.js';
import { startEngineB } from '../test/helpers/runtime-engine-b.js';
import { REPO_ROOT, cleanupProject, copyTree, seedState, testId } from '../test/helpers/runtime-fixtures.js';
import { usageOnHelp } from './usage.js';

usageOnHelp(import.meta.url);

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'skip-remote': { type: 'boolean', default: false } } });
const runs = Number(values.runs);
const docker = new Docker();
const id = testId('bench-lanes');
const work = mkdtempSync(join(tmpdir(), 'wvo-bench-lanes-'));
const tags: string[] = [];
/** Every image id built: a rebuild moves the tag and leaves the previous image dangling. */
const builtIds = new Set<string>();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, unknown> = {};

/** A tree that shares this repo's node_modules but has its own dist/ (so a code change stays private). */
function benchTree(): string {
  const tree = join(work, 'tree');
  mkdirSync(tree);
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(REPO_ROOT, file), join(tree, file));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(tree, 'node_modules'));
  cpSync(join(REPO_ROOT, 'dist'), join(tree, 'dist'), { recursive: true });
  return tree;
}

async function timeLanes(name: string, runtime: LaneRuntime, image: string, template: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const state = copyTree(template, join(work, `${name}-${i}`));
    const started = performance.now();
    await runtime.startLane({ name: `${name}-${i}`, image, stateDir: state });
    times.push(performance.now() - started);
    await runtime.removeLane(`${name}-${i}`, { timeoutMs: 5000 });
  }
  return times;
}

try {
  // 1. builds
  const tree = benchTree();
  const nodeImage = (await resolveNodeImage(docker, { nodeImage: 'node:20-bookworm-slim', pull: false, baseImage: 'wvo-node-base' })).image;
  const tag = `wvo-worker:${id}`;
  tags.push(tag);
  const build = async (extra: { noCache?: boolean; depsCacheDir?: string } = {}) => {
    const built = await buildImage(docker, { kind: 'worker', root: tree, tag, nodeImage, version: 'bench', ...extra });
    builtIds.add(built.id);
    return built;
  };
  const cold = await build({ noCache: true, depsCacheDir: join(work, 'deps-cache') });
  const warmSame = await build();
  appendFileSync(join(tree, 'dist/worker/src/version.js'), `\n// bench change ${Date.now()}\n`);
  const warmCode = await build();
  results.build = {
    coldMs: Math.round(cold.durationMs),
    warmUnchangedMs: Math.round(warmSame.durationMs),
    warmCodeChangeMs: Math.round(warmCode.durationMs),
    contextMB: +(warmCode.contextBytes / 1e6).toFixed(1),
    cachedSteps: `${warmCode.cachedSteps}/${warmCode.steps}`,
  };
  console.log('build', results.build);

  // 2. startLane → ready
  const template = await seedState(join(work, 'template'), 200);
  const dockerRuntime = new DockerRuntime({ project: id });
  const localRuntime = new LocalRuntime({ runDir: join(work, 'local-run'), defaultTree: REPO_ROOT });
  await timeLanes('warmup', dockerRuntime, tag, template).then(() => undefined, () => undefined);
  const dockerTimes = await timeLanes('d', dockerRuntime, tag, template);
  const localTimes = await timeLanes('l', localRuntime, 'wvo-worker:any', template);
  results.ready = {
    dockerMedianMs: Math.round(median(dockerTimes)),
    dockerRunsMs: dockerTimes.map(Math.round),
    localMedianMs: Math.round(median(localTimes)),
    localRunsMs: localTimes.map(Math.round),
  };
  console.log('ready', results.ready);

  // 3. transfer to a second engine
  if (!values['skip-remote']) {
    const engine = await startEngineB();
    try {
      const remote = new DockerRuntime({ project: id, hosts: [{ name: 'b', docker: engine.url, network: 'auto' }] });
      const transfers: Array<{ mb: number; ms: number }> = [];
      for (let i = 0; i < 3; i++) {
        await engine.docker.getImage(tag).remove({ force: true }).catch(() => undefined);
        const result = await remote.transferImage(tag, 'b');
        transfers.push({ mb: result.bytes / 1e6, ms: result.durationMs });
      }
      const rates = transfers.map((t) => t.mb / (t.ms / 1000));
      results.transfer = { imageMB: +transfers[0]!.mb.toFixed(1), medianMs: Math.round(median(transfers.map((t) => t.ms))), medianMBps: Math.round(median(rates)) };
      console.log('transfer', results.transfer);
    } finally {
      await engine.destroy();
    }
  }
  console.log(JSON.stringify(results));
} finally {
  await cleanupProject(docker, id);
  for (const tag of tags) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
  for (const imageId of builtIds) await docker.getImage(imageId).remove({ force: true }).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}
