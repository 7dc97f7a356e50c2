import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWvoCli, type CliRun } from '../helpers/cli.js';
import { execaSync } from 'execa';
import { parseConfig } from '../../controller/src/config/index.js';
import { acquireLock } from '../../controller/src/harness/lock.js';
import { parsePruneOptions } from '../../controller/src/harness/staged-gc.js';
import { pruneStaged } from '../../controller/src/harness/staged-prune.js';
import { LocalRuntime } from '../../controller/src/runtime/local/local-runtime.js';
import { makeFakeWorkerTree } from '../helpers/runtime-fixtures.js';
import { recordDeployment } from '../helpers/staged-deployments.js';

/** `wvo images prune` on the local runtime: staged trees under a temp project's tmp/wv-images, and its caches. */

let project: string;
let outside: string;
let runtime: LocalRuntime;
const trees = join('tmp', 'wv-images');
const path = (...parts: string[]) => join(project, ...parts);
const HASH = { lane: 'aaaaaaaaaaaaaaaa', old: 'bbbbbbbbbbbbbbbb', newest: 'cccccccccccccccc' };
const STAGE = 'wv-upgrade-20260101-000000-abcdef';

/** A directory whose mtime says it was made `age` seconds ago (what "newest" is decided on). */
function aged(dir: string, age: number, tree = false): string {
  if (tree) makeFakeWorkerTree(dir);
  else mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'payload.bin'), Buffer.alloc(64 * 1024, 1));
  const at = new Date(Date.now() - age * 1000);
  utimesSync(dir, at, at);
  return dir;
}

function prune(args: string[]): Promise<CliRun> {
  return runWvoCli(['images', 'prune', '--runtime', 'local', ...args], { cwd: project });
}

describe('wvo images prune (local trees)', () => {
  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), 'wvo-gc-local-'));
    outside = mkdtempSync(join(tmpdir(), 'wvo-gc-outside-'));
    writeFileSync(join(outside, 'keep.txt'), 'not ours');
    writeFileSync(
      path('wvo.config.json'),
      JSON.stringify({ runtime: 'local', stateRoot: './state', local: { trees: { pinned: 'tmp/wv-images/pinned' } } }),
    );
    writeFileSync(path('package-lock.json'), '{"lockfileVersion":3}\n');
    const lockHash = createHash('sha256').update(readFileSync(path('package-lock.json'))).digest('hex').slice(0, 16);

    aged(path(trees, 'old-1'), 900, true);
    // Like a stage's node_modules link: removing the tree must not follow it.
    symlinkSync(outside, path(trees, 'old-1', 'node_modules'));
    const before = new Date(Date.now() - 900_000);
    utimesSync(path(trees, 'old-1'), before, before);
    aged(path(trees, 'old-2'), 800, true);
    aged(path(trees, HASH.lane), 700, true);
    aged(path(trees, 'deployed'), 600, true);
    aged(path(trees, 'pinned'), 500, true);
    aged(path(trees, 'newest'), 100, true);
    aged(path(trees, '.pruning-old-0-abc123'), 1000); // an interrupted prune's leftover
    symlinkSync(outside, path(trees, 'link-outside')); // not a directory of ours: never touched

    aged(path('tmp', 'wv-deps', lockHash), 400);
    aged(path('tmp', 'wv-deps', '1111111111111111'), 300); // an old lockfile's
    aged(path('tmp', 'wv-deps', '2222222222222222'), 200); // the newest: kept
    aged(path('tmp', 'wv-build', HASH.lane), 900); // sources of a kept tree
    aged(path('tmp', 'wv-build', HASH.old), 800);
    aged(path('tmp', 'wv-build', HASH.newest), 100);
    aged(path('tmp', STAGE), 900); // a stage of a run that is not running (--keep-stage, or it crashed)
    aged(path('tmp', `.pruning-${STAGE}-0a0b0c`), 900); // an interrupted prune's leftover of a stage

    // A lane on one tree, stopped (kept for rollback); a running deployment on another.
    runtime = new LocalRuntime({ runDir: path('state', 'runtime', 'local'), readyTimeoutMs: 15_000, stopTimeoutMs: 5_000 });
    mkdirSync(path('lane-state'), { recursive: true });
    await runtime.startLane({ name: 'blue', image: path(trees, HASH.lane), stateDir: path('lane-state'), role: 'live' });
    await runtime.stopLane('blue');
    recordDeployment(path('state'), 'dep-old', path(trees, 'old-2'), path(trees, 'old-2'), 'rolled_back');
    recordDeployment(path('state'), 'dep-live', path(trees, 'deployed'), 'pinned', 'shadowed');
  });

  afterAll(async () => {
    await runtime?.removeLane('blue').catch(() => undefined);
    if (project) rmSync(project, { recursive: true, force: true });
    if (outside) rmSync(outside, { recursive: true, force: true });
  });

  it('refuses while an upgrade holds the lock, removing nothing', async () => {
    const lock = acquireLock(path('state'), { id: 'up-test', host: hostname() });
    try {
      const out = await prune(['--keep', '0', '--json']);
      expect(out.code).toBe(1);
      expect(JSON.parse(out.stdout).error.code).toBe('WVO_LOCK_HELD');
    } finally {
      lock.release();
    }
    expect(existsSync(path(trees, 'old-1', 'dist', 'worker', 'src', 'main.js'))).toBe(true);
    expect(existsSync(path('tmp', STAGE))).toBe(true);
  });

  it('--keep 1 --dry-run keeps the newest besides those in use, and removes nothing', async () => {
    const out = await prune(['--keep', '1', '--dry-run', '--json']);
    expect(out.code, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout);
    const action = Object.fromEntries(report.entries.map((e: { ref: string; action: string }) => [e.ref, e.action]));
    expect(action).toMatchObject({ [join(trees, 'newest')]: 'kept', [join(trees, 'old-1')]: 'would-remove' });
    expect(existsSync(path(trees, 'old-1'))).toBe(true);
  });

  it('--keep 0 removes exactly the unused trees and dead caches, nothing outside them', async () => {
    const out = await prune(['--keep', '0', '--json']);
    expect(out.code, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout);
    const rows = Object.fromEntries(report.entries.map((e: { ref: string; action: string; why: string }) => [e.ref, e.action === 'removed' ? 'removed' : e.why]));
    expect(rows).toEqual({
      [join(trees, 'old-1')]: 'removed',
      [join(trees, 'old-2')]: 'removed', // only a rolled-back deployment named it
      [join(trees, 'newest')]: 'removed',
      [join(trees, '.pruning-old-0-abc123')]: 'removed',
      [join(trees, HASH.lane)]: 'in use by lane blue (stopped)',
      [join(trees, 'deployed')]: 'baseline of deployment dep-live (shadowed)',
      [join(trees, 'pinned')]: 'candidate of deployment dep-live (shadowed); named by local.trees.pinned in wvo.config.json',
      [join('tmp', 'wv-deps', '1111111111111111')]: 'removed',
      [join('tmp', 'wv-deps', createHash('sha256').update(readFileSync(path('package-lock.json'))).digest('hex').slice(0, 16))]: "the workspace's current lockfile",
      [join('tmp', 'wv-deps', '2222222222222222')]: 'newest cache of its kind',
      [join('tmp', 'wv-build', HASH.lane)]: `sources of kept ${join(trees, HASH.lane)}`,
      [join('tmp', 'wv-build', HASH.old)]: 'removed',
      [join('tmp', 'wv-build', HASH.newest)]: 'newest cache of its kind',
      [join('tmp', STAGE)]: 'removed',
      [join('tmp', `.pruning-${STAGE}-0a0b0c`)]: 'removed',
    });
    expect(report).toMatchObject({ runtime: 'local', host: 'local', keep: 0, removed: 8, skipped: 0 });
    expect(report.bytesFreed).toBeGreaterThanOrEqual(8 * 64 * 1024);
    for (const gone of ['old-1', 'old-2', 'newest', '.pruning-old-0-abc123']) expect(existsSync(path(trees, gone))).toBe(false);
    expect(existsSync(path(trees, HASH.lane, 'dist', 'worker', 'src', 'main.js'))).toBe(true);
    expect(existsSync(path(trees, 'deployed', 'dist', 'worker', 'src', 'main.js'))).toBe(true);
    expect(existsSync(path(trees, 'pinned'))).toBe(true);
    // The symlinks' target and the link itself are not ours to remove; the stale stage is gone.
    expect(readFileSync(join(outside, 'keep.txt'), 'utf8')).toBe('not ours');
    expect(existsSync(path(trees, 'link-outside'))).toBe(true);
    expect(readdirSync(path('tmp')).filter((n) => n.includes('wv-upgrade-'))).toEqual([]);
    // Nothing half-removed is left for the harness to mistake for a reusable tree.
    expect(readdirSync(path(trees)).filter((n) => n.startsWith('.pruning-'))).toEqual([]);
  });

  it("keeps the stage of the run holding the lock; a dead owner's (stale lock) is removed", async () => {
    const stage = (run: string) => aged(path('tmp', `wv-upgrade-${run}`), 300);
    stage('up-running');
    stage('up-ended');
    const options = parsePruneOptions({ keep: 0, caches: false });
    const context = { projectRoot: project, stateRoot: path('state'), runtime, config: parseConfig({ runtime: 'local', local: { trees: { pinned: 'tmp/wv-images/pinned' } } }) };
    const lock = acquireLock(path('state'), { id: 'up-running', host: hostname() });
    try {
      // As the end of a run would, were it to prune stages: it holds the lock.
      const report = await pruneStaged(options, { ...context, holdsLock: true });
      const stages = report.entries.filter((e) => e.kind === 'stage').map((e) => [e.ref, e.action, e.why]);
      expect(stages).toEqual([
        [join('tmp', 'wv-upgrade-up-ended'), 'removed', 'its upgrade is not running'],
        [join('tmp', 'wv-upgrade-up-running'), 'kept', 'stage of upgrade up-running, which holds the upgrade lock'],
      ]);
    } finally {
      lock.release();
    }
    expect(existsSync(path('tmp', 'wv-upgrade-up-running'))).toBe(true);
    expect(existsSync(path('tmp', 'wv-upgrade-up-ended'))).toBe(false);

    // Its owner died without releasing the lock: the CLI prune runs (the lock is stale) and removes the stage.
    const dead = execaSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout;
    writeFileSync(path('state', 'upgrade.lock'), JSON.stringify({ pid: Number(dead), host: hostname(), id: 'up-running', started_at: new Date().toISOString() }));
    try {
      const out = await prune(['--keep', '0', '--json']);
      expect(out.code, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout).entries).toContainEqual(expect.objectContaining({ kind: 'stage', ref: join('tmp', 'wv-upgrade-up-running'), action: 'removed' }));
      expect(existsSync(path('tmp', 'wv-upgrade-up-running'))).toBe(false);
    } finally {
      rmSync(path('state', 'upgrade.lock'), { force: true });
    }
  });

  it('an unknown --host is a usage error naming the flag', async () => {
    const out = await prune(['--host', 'remote-1']);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/WVO_HOST_UNKNOWN.*\[--host\]/);
  });
});
