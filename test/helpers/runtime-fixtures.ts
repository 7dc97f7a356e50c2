import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { buildImages } from '../../controller/src/runtime/images/image-build.js';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const WORKER_MAIN = join(REPO_ROOT, 'dist/worker/src/main.js');

/** A unique, label-safe id for one test file's resources. */
export function testId(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** A built tree (dist/worker/src/main.js, package.json, lockfile) holding the fake worker. */
export function makeFakeWorkerTree(dir = mkdtempSync(join(tmpdir(), 'wvo-fake-tree-'))): string {
  mkdirSync(join(dir, 'dist/worker/src'), { recursive: true });
  mkdirSync(join(dir, 'dist/common'), { recursive: true });
  copyFileSync(join(REPO_ROOT, 'test/fixtures/runtime-fake-worker.mjs'), join(dir, 'dist/worker/src/main.js'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fake-worker', version: '0.0.1', type: 'module' }));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'fake-worker', lockfileVersion: 3, packages: { '': {} } }));
  return dir;
}

export interface TestImages {
  /** The real worker image (this tree's dist/). */
  worker: string;
  /** The fake worker image (failure modes by env). */
  fake: string;
  fakeTree: string;
  remove(): Promise<void>;
}

/**
 * Build the worker and fake-worker images once per test file, under tags unique to it (so one
 * file's teardown never removes an image another file is using). Warm builds take about a second.
 */
export async function buildTestImages(docker: Docker, id: string): Promise<TestImages> {
  const fakeTree = makeFakeWorkerTree();
  const common = { tag: id, nodeImage: 'node:20-bookworm-slim', pull: false, baseImage: 'wvo-node-base', kinds: ['worker' as const] };
  const tags = [`wvo-worker:${id}`, `wvo-fake-worker:${id}`] as const;
  const remove = async () => {
    for (const tag of tags) await removeImageTag(docker, tag);
    rmSync(fakeTree, { recursive: true, force: true });
  };
  try {
    await buildImages(docker, { ...common, root: REPO_ROOT, repositories: { worker: 'wvo-worker', controller: 'wvo-controller' } });
    await buildImages(docker, { ...common, root: fakeTree, repositories: { worker: 'wvo-fake-worker', controller: 'unused' } });
  } catch (error) {
    await remove();
    throw error;
  }
  return { worker: tags[0], fake: tags[1], fakeTree, remove };
}

/** Remove every container and network labelled with this project, even half-started ones. */
export async function cleanupProject(docker: Docker, project: string): Promise<void> {
  const label = [`wvo.project=${project}`];
  for (const c of await docker.listContainers({ all: true, filters: { label } }).catch(() => [])) {
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
  for (const n of await docker.listNetworks({ filters: { label } }).catch(() => [])) {
    await docker.getNetwork(n.Id).remove().catch(() => undefined);
  }
}

/** A seeded worker state dir (real `wvo-worker seed`). */
export async function seedState(dir: string, tasks = 40): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await execa(process.execPath, [WORKER_MAIN, 'seed', '--state', dir, '--tasks', String(tasks), '--seed', '7']);
  return dir;
}

/** sha256 of every file under `dir` (relative path → hash). */
export function hashTree(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(dir, rel))) {
    const path = join(rel, name);
    if (statSync(join(dir, path)).isDirectory()) Object.assign(out, hashTree(dir, path));
    else out[path] = createHash('sha256').update(readFileSync(join(dir, path))).digest('hex');
  }
  return out;
}

/** Copy a directory's files (not a live database: only use on a closed state dir). */
export function copyTree(from: string, to: string): string {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    if (statSync(src).isDirectory()) copyTree(src, join(to, name));
    else copyFileSync(src, join(to, name));
  }
  return to;
}

/**
 * Remove a test's image tag without pruning its untagged parents: another test file building at
 * the same moment may have just hit those layers in the build cache, and pruning them under it
 * fails that build ("unknown parent image ID").
 */
export async function removeImageTag(docker: Docker, tag: string): Promise<void> {
  await docker.getImage(tag).remove({ noprune: true }).catch(() => undefined);
}
