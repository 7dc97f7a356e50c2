import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** A built tree (dist/worker/src/main.js, package.json, lockfile) holding the fake worker. */
export function makeFakeWorkerTree(dir = mkdtempSync(join(tmpdir(), 'wvo-fake-tree-'))): string {
  mkdirSync(join(dir, 'dist/worker/src'), { recursive: true });
  mkdirSync(join(dir, 'dist/common'), { recursive: true });
  copyFileSync(join(REPO_ROOT, 'test/fixtures/runtime-fake-worker.mjs'), join(dir, 'dist/worker/src/main.js'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fake-worker', version: '0.0.1', type: 'module' }));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'fake-worker', lockfileVersion: 3, packages: { '': {} } }));
  return dir;
}
