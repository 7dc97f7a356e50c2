import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isWvoError } from '../../common/src/errors.js';
import { checkDryRunCopies } from '../../controller/src/harness/dry-run-integrity.js';
import { cannotSandbox } from '../../controller/src/harness/shadow-lanes.js';
import { shadowLanePlans } from '../../controller/src/harness/steps/shadow.js';
import { runLayout } from '../../controller/src/harness/steps/layout.js';
import { copyChanges, sha256File } from '../../controller/src/state/index.js';

const layout = runLayout('/p', 'RUN');
const plans = shadowLanePlans({
  images: { baselineImage: 'old', candidateImage: 'new' },
  copies: layout.snapshots,
  fresh: layout.fresh,
  laneName: layout.laneName,
});

describe('shadow lane plans', () => {
  it('runs the baseline on four lanes, the candidate on three, each on its own directory', () => {
    expect(plans.map((p) => `${p.key} ${p.image} ${p.role}${p.alwaysDryRun ? ' dry_run' : ''}`)).toEqual([
      'baseline old shadow-baseline',
      'replica old shadow-replica',
      'replica2 old shadow-replica',
      'candidate new shadow-candidate',
      'fresh-baseline old shadow-baseline',
      'fresh-replica old shadow-replica',
      'fresh-candidate new shadow-candidate',
      'dryrun new shadow-candidate dry_run',
    ]);
    expect(new Set(plans.map((p) => p.stateDir)).size).toBe(plans.length);
    expect(plans.some((p) => p.stateDir === layout.snapshots.pristine || p.stateDir === layout.snapshots.compat)).toBe(false);
    expect(plans.filter((p) => p.restoreFrom === 'empty').map((p) => p.key)).toEqual(['fresh-baseline', 'fresh-replica', 'fresh-candidate']);
    expect(plans.find((p) => p.key === 'replica2')?.name).toBe('up-RUN-replica2');
  });
});

describe('the sandbox capability check', () => {
  const said = (entries: Record<string, string | undefined>) => new Map(Object.entries(entries));
  const all = (mode: string | undefined) => said(Object.fromEntries(plans.map((p) => [p.key, mode])));

  it('passes when every compared lane says sandbox (the DRY_RUN check lane is not asked)', () => {
    expect(cannotSandbox(plans, said({ ...Object.fromEntries(all('sandbox')), dryrun: 'dry_run' }))).toBeUndefined();
  });

  it('names the version that cannot, and what its /version said', () => {
    const reported = all('sandbox');
    for (const key of ['baseline', 'replica', 'replica2', 'fresh-baseline', 'fresh-replica']) reported.set(key, 'live');
    expect(cannotSandbox(plans, reported)).toEqual({
      keys: ['baseline', 'replica', 'replica2', 'fresh-baseline', 'fresh-replica'],
      reason: 'baseline cannot sandbox (/version says live): compared in strict DRY_RUN',
    });
    reported.set('candidate', undefined);
    expect(cannotSandbox(plans, reported)?.reason).toBe('baseline and candidate cannot sandbox (/version says live, no mode): compared in strict DRY_RUN');
  });
});

describe('DRY_RUN integrity: a copy re-hashed against its manifest', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wvo-integrity-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function manifestOf(root: string, paths: string[]) {
    return { files: await Promise.all(paths.map(async (path) => ({ path, kind: 'file' as const, size: 1, sha256: await sha256File(join(root, path)) }))) };
  }

  it('finds changed, added (side files, empty folders) and removed files; manifest.json is not state', async () => {
    writeFileSync(join(dir, 'orchestrator.db'), 'a');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'keep.txt'), 'k');
    writeFileSync(join(dir, 'gone.txt'), 'g');
    const manifest = await manifestOf(dir, ['orchestrator.db', 'sub/keep.txt', 'gone.txt']);
    writeFileSync(join(dir, 'manifest.json'), '{}');
    expect(await copyChanges(dir, manifest)).toEqual([]);

    writeFileSync(join(dir, 'orchestrator.db'), 'b');
    writeFileSync(join(dir, 'orchestrator.db-wal'), '');
    rmSync(join(dir, 'gone.txt'));
    mkdirSync(join(dir, 'sandbox'));
    expect(await copyChanges(dir, manifest)).toEqual([
      { path: 'gone.txt', kind: 'removed' },
      { path: 'orchestrator.db', kind: 'changed' },
      { path: 'orchestrator.db-wal', kind: 'added' },
      { path: 'sandbox/', kind: 'added' },
    ]);
  });

  it('fails with WVO_DRY_RUN_WROTE naming the lane and the file; an untouched copy passes', async () => {
    const clean = join(dir, 'clean');
    const dirty = join(dir, 'dirty');
    for (const root of [clean, dirty]) {
      mkdirSync(root);
      writeFileSync(join(root, 'orchestrator.db'), 'a');
    }
    const manifest = await manifestOf(clean, ['orchestrator.db']);
    const fresh = join(dir, 'fresh');
    mkdirSync(fresh);
    expect(await checkDryRunCopies([{ lane: 'up-x-baseline', stateDir: clean, manifest }, { lane: 'up-x-fresh', stateDir: fresh, manifest: { files: [] } }])).toEqual({
      checked: ['up-x-baseline', 'up-x-fresh'],
      files: 1,
    });

    writeFileSync(join(dirty, 'orchestrator.db'), 'written');
    writeFileSync(join(fresh, 'orchestrator.db'), 'created');
    const error = await checkDryRunCopies([
      { lane: 'up-x-baseline', stateDir: clean, manifest },
      { lane: 'up-x-dryrun', stateDir: dirty, manifest },
      { lane: 'up-x-fresh', stateDir: fresh, manifest: { files: [] } },
    ]).catch((caught: unknown) => caught);
    expect(isWvoError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'WVO_DRY_RUN_WROTE', subject: 'up-x-dryrun: orchestrator.db', exitCode: 1 });
    expect((error as Error).message).toBe(
      'a strict DRY_RUN lane wrote its state: up-x-dryrun: orchestrator.db changed; up-x-fresh: orchestrator.db added',
    );
  });
});
