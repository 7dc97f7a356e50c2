import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/src/logger.js';
import { buildStagedTree, stagedBuildScript } from '../../controller/src/harness/index.js';

/** A stage whose npm scripts each write dist/built-by naming themselves (real `npm run`). */
function writeStage(dir: string, scripts: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  const run = (name: string) => `node -e "require('fs').mkdirSync('dist',{recursive:true});require('fs').writeFileSync('dist/built-by','${name}')"`;
  const pkg = { name: 'stage', version: '1.0.0', private: true, scripts: Object.fromEntries(Object.keys(scripts).map((name) => [name, run(name)])) };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  writeFileSync(join(dir, 'src.ts'), 'export const x = 1;\n');
}

describe('staged build script', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'wvo-build-script-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('runs the app\'s script when the stage defines it, `build` when it does not (an older commit)', async () => {
    const current = join(work, 'current');
    writeStage(current, { build: '', 'build:worker': '' });
    const older = join(work, 'older');
    writeStage(older, { build: '' });
    expect(stagedBuildScript(current, 'build:worker')).toBe('build:worker');
    expect(stagedBuildScript(older, 'build:worker')).toBe('build');
    expect(stagedBuildScript(join(work, 'missing'), 'build:worker')).toBe('build');

    const cache = join(work, 'cache');
    const built = await buildStagedTree(current, cache, silentLogger(), 'build:worker');
    expect(built).toMatchObject({ dist: 'built', script: 'build:worker' });
    expect(readFileSync(join(current, 'dist', 'built-by'), 'utf8')).toBe('build:worker');
    const fallback = await buildStagedTree(older, cache, silentLogger(), 'build:worker');
    expect(fallback).toMatchObject({ dist: 'built', script: 'build' });
    expect(readFileSync(join(older, 'dist', 'built-by'), 'utf8')).toBe('build');
  });

  it('caches per source tree and script: the same tree built by another script is built again', async () => {
    const stage = join(work, 'stage');
    writeStage(stage, { build: '', 'build:worker': '' });
    const cache = join(work, 'cache');
    expect(await buildStagedTree(stage, cache, silentLogger(), 'build:worker')).toMatchObject({ dist: 'built' });
    expect(await buildStagedTree(stage, cache, silentLogger(), 'build:worker')).toMatchObject({ dist: 'cache-hit', script: 'build:worker' });
    const full = await buildStagedTree(stage, cache, silentLogger());
    expect(full).toMatchObject({ dist: 'built', script: 'build' });
    expect(readFileSync(join(stage, 'dist', 'built-by'), 'utf8')).toBe('build');
  });
});
