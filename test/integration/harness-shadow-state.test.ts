import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpgradeOptionsInput } from '../../controller/src/harness/options.js';
import { stepsFileSchema } from '../../controller/src/harness/steps.js';
import type { UpgradeResult } from '../../controller/src/harness/upgrade.js';
import { readShadowJson, type ShadowResult } from '../../controller/src/shadow/index.js';
import { startHarnessRig, type HarnessRig } from '../helpers/harness-rig.js';
import type { TempWorkspace } from '../helpers/workspace.js';
import { editWorkspaceFile } from '../helpers/workspace-edit.js';

/**
 * Issue 10 on real lanes (local runtime): sandboxed shadow lanes catch what answers alone miss
 * (write-only regressions, missing events, critic scoring on the replayed executor's success
 * path, a changed built-in default in the fresh-state pass); a DRY_RUN lane that writes fails the
 * run; a baseline that cannot sandbox turns the comparison into strict DRY_RUN. One workspace
 * for the file; each test edits its working tree and restores it.
 */
let rig: HarnessRig;
let ws: TempWorkspace;
let stateRoot: string;

const upgrade = (input: Partial<UpgradeOptionsInput> = {}): Promise<UpgradeResult> => rig.upgrade(input);

/** Apply edits to the working tree for the length of `body`, then restore them (last first). */
async function withEdits<T>(edits: ReadonlyArray<readonly [file: string, from: string | RegExp, to: string]>, body: () => Promise<T>): Promise<T> {
  const restore: Array<() => void> = [];
  try {
    for (const [file, from, to] of edits) restore.unshift(editWorkspaceFile(ws.dir, file, from, to));
    return await body();
  } finally {
    for (const undo of restore) undo();
  }
}

const shadowStepOf = (result: UpgradeResult) => result.steps.find((s) => s.name === 'shadow')!;
const reportedState = (shadow: ShadowResult) => (shadow.state?.databases ?? []).flatMap((db) => db.groups.filter((g) => g.reported).map((g) => ({ db: db.database, ...g })));

const expectNothingLeft = (result: UpgradeResult): Promise<void> => rig.expectNothingLeft(result);

beforeAll(async () => {
  rig = await startHarnessRig({ prefix: 'wvo-ws-state-', defaults: { allowDirty: true, readyTimeoutMs: 60_000 } });
  ({ ws, stateRoot } = rig);
}, 120_000);

afterAll(() => rig?.close());

describe('state-aware shadow validation (local runtime)', () => {
  it('a no-op runs sandboxed, reaches the success paths, diffs state and counts 0 everywhere', async () => {
    const result = await upgrade();
    expect(result.error).toBeUndefined();
    expect(result.outcome).toBe('passed');
    expect(result.shadow).toMatchObject({ count: 0, answerGroups: 0, stateDifferences: 0 });
    const detail = shadowStepOf(result).detail as Record<string, unknown>;
    expect(detail).toMatchObject({ mode: 'sandbox', count: 0, answer_groups: 0, state_differences: 0 });
    const shadow = await readShadowJson(result.shadow!.shadowJson);
    expect(shadow.lane_mode).toEqual({ mode: 'sandbox' });
    // Both passes ran, in suite order, and the state of both was compared.
    expect(shadow.calls.filter((c) => c.pass === 'fresh').length).toBe(shadow.calls.filter((c) => c.pass === 'snapshot').length);
    expect(shadow.state?.databases.map((db) => db.database)).toEqual(['orchestrator.db', 'fresh/orchestrator.db']);
    // A sandbox sees earlier writes: verify after dispatch and report after verify succeed.
    const ok = (name: string) => shadow.calls.find((c) => c.name === name)!.is_error;
    for (const name of ['dispatch next', 'verify dispatched task', 'report done on dispatched task', 'report retry on second dispatched task']) {
      expect(ok(name), name).toEqual({ baseline: false, replica: false, candidate: false });
    }
    for (const tool of ['dispatch', 'verify', 'report']) {
      const paths = shadow.coverage.tools.find((t) => t.tool === tool)!.paths;
      expect(paths.map((p) => p.outcome), tool).toContain('success');
      expect(paths.map((p) => p.outcome), tool).toContain('error');
    }
    expect((detail.dry_run_check as Record<string, unknown>).copies_verified).toBe(1);
    const summary = JSON.parse(readFileSync(join(stateRoot, 'analytics', 'upgrade_shadow.json'), 'utf8'));
    expect(summary).toMatchObject({ count: 0, answer_groups: 0, state_differences: 0 });
    await expectNothingLeft(result);
  }, 600_000);

  it('catches write-only regressions by table.column: a retry stored as failed, a missing dispatched event', async () => {
    const result = await withEdits(
      [
        ['worker/src/tools/report.ts', 'setTaskStatus(context.db, task.id, status, at);', "setTaskStatus(context.db, task.id, input.outcome === 'retry' ? 'failed' : status, at);"],
        ['worker/src/tools/dispatch.ts', "context.event({ at, kind: 'dispatched', taskId: task.id, payload: { dispatch_id: dispatchId, agent: input.agent } });", ''],
      ],
      () => upgrade(),
    );
    expect(result.error).toBeUndefined();
    expect(result.outcome).toBe('warnings');
    const shadow = await readShadowJson(result.shadow!.shadowJson);
    // report and dispatch answer as before (a later status/plan call sees the task's status, and
    // the events are never read back): the state diff is what names both regressions.
    expect(shadow.groups.filter((g) => g.reported && (g.tool === 'report' || g.tool === 'dispatch'))).toEqual([]);
    const state = reportedState(shadow);
    const status = state.find((g) => g.db === 'orchestrator.db' && g.table === 'tasks' && g.column === 'status');
    expect(status, JSON.stringify(state)).toBeDefined();
    expect(status!.examples.some((e) => e.baseline === 'open' && e.candidate === 'failed')).toBe(true);
    const events = state.filter((g) => g.db === 'orchestrator.db' && g.table === 'events');
    expect(events.length, JSON.stringify(state)).toBeGreaterThan(0);
    expect(JSON.stringify(events)).toContain('dispatched');
    expect(shadow.totals.count).toBe(shadow.totals.groups_reported + shadow.totals.state_reported);
    expect(result.shadow).toMatchObject({ count: shadow.totals.count, answerGroups: shadow.totals.groups_reported, stateDifferences: shadow.totals.state_reported });
    const summary = JSON.parse(readFileSync(join(stateRoot, 'analytics', 'upgrade_shadow.json'), 'utf8'));
    expect(summary).toMatchObject({ count: shadow.totals.count, answer_groups: shadow.totals.groups_reported, state_differences: shadow.totals.state_reported });
    expect(shadowStepOf(result)).toMatchObject({ status: 'warning', detail: { state_differences: shadow.totals.state_reported } });
    await expectNothingLeft(result);
  }, 600_000);

  it('catches a critic threshold change on the success path and a built-in default in the fresh-state pass', async () => {
    const result = await withEdits(
      [
        ['worker/src/operations/critics.ts', 'return 0.5 + strictness / 2;', 'return 0.5 + strictness;'],
        ['worker/src/store/settings.ts', "DEFAULT_FLAGS: Flags = { PROMPT_MODE: 'standard'", "DEFAULT_FLAGS: Flags = { PROMPT_MODE: 'compact'"],
      ],
      () => upgrade(),
    );
    expect(result.error).toBeUndefined();
    expect(result.outcome).toBe('warnings');
    const shadow = await readShadowJson(result.shadow!.shadowJson);
    const groups = shadow.groups.filter((g) => g.reported);
    const passOf = (index: number) => shadow.calls[index]!.pass;
    // Scoring: verify's critics answer differently on the snapshot's dispatched tasks (replayed runs).
    const verify = groups.filter((g) => g.tool === 'verify');
    expect(verify.length, JSON.stringify(groups.map((g) => [g.tool, g.path]))).toBeGreaterThan(0);
    expect(verify.some((g) => g.path.includes('critics'))).toBe(true);
    expect(verify.every((g) => g.calls.every((c) => passOf(c.index) === 'snapshot'))).toBe(true);
    expect(reportedState(shadow).some((g) => g.table === 'critic_history' || g.table === 'critics')).toBe(true);
    // The default: the seeded state sets every flag, so only the fresh-state pass reads it.
    const flag = groups.find((g) => g.tool === 'autopilot_status' && g.path.includes('PROMPT_MODE'));
    expect(flag, JSON.stringify(groups.map((g) => [g.tool, g.path]))).toBeDefined();
    expect(flag!.calls.every((c) => passOf(c.index) === 'fresh' && c.name.startsWith('fresh: '))).toBe(true);
    await expectNothingLeft(result);
  }, 600_000);

  it('fails hard when the candidate writes its state file in DRY_RUN, naming the lane and the file; no summary', async () => {
    const summaryBefore = readFileSync(join(stateRoot, 'analytics', 'upgrade_shadow.json'), 'utf8');
    const leak = [
      "import Database from 'better-sqlite3';\nimport { z } from 'zod';",
      // A second connection to the state file, behind the rolled-back in-memory copy's back.
      'run(context, input) {\n    if (context.dryRun) {\n      const leak = new Database(context.store.path);\n      leak.prepare("UPDATE settings SET updated_at = updated_at || \'!\'").run();\n      leak.close();\n    }',
    ] as const;
    const result = await withEdits(
      [
        ['worker/src/tools/plan-next.ts', "import { z } from 'zod';", leak[0]],
        ['worker/src/tools/plan-next.ts', 'run(context, input) {', leak[1]],
      ],
      () => upgrade(),
    );
    expect(result.outcome).toBe('failed');
    expect(result.exitCode).toBe(1);
    expect(result.error?.code).toBe('WVO_DRY_RUN_WROTE');
    expect(String(result.error?.message)).toContain(`up-${result.id}-dryrun: orchestrator.db changed`);
    expect(result.error?.subject).toBe(`up-${result.id}-dryrun: orchestrator.db`);
    expect(result.steps.at(-1)).toMatchObject({ name: 'shadow', status: 'failed' });
    expect(readFileSync(join(stateRoot, 'analytics', 'upgrade_shadow.json'), 'utf8')).toBe(summaryBefore);
    expect(existsSync(join(result.artifactsDir, 'shadow.json'))).toBe(false);
    await expectNothingLeft(result);
  }, 600_000);

  it('fails the shadow when the candidate cannot migrate an empty state from zero, and leaves no lane running', async () => {
    // A migration numbered below the newest: the snapshot (already at 5) skips it, an empty state cannot apply it twice.
    const file = join(ws.dir, 'worker/src/store/migrations/004-again.ts');
    writeFileSync(file, "import type { Migration } from './migration.js';\nexport const m004Again: Migration = { version: 4, name: 'again', kind: 'expand', up() {} };\n");
    try {
      const result = await withEdits(
        [
          [
            'worker/src/store/migrations/index.ts',
            /export const MIGRATIONS: readonly Migration\[\] = \[(.*)\];/,
            "import { m004Again } from './004-again.js';\nexport const MIGRATIONS: readonly Migration[] = [$1, m004Again];",
          ],
        ],
        () => upgrade(),
      );
      expect(result.outcome).toBe('failed');
      expect(result.steps.at(-1)).toMatchObject({ name: 'shadow', status: 'failed' });
      expect(JSON.stringify(result.error)).toContain(`up-${result.id}-fresh-candidate`);
      await expectNothingLeft(result);
    } finally {
      rmSync(file, { force: true });
    }
  }, 600_000);

  it('--strict-dry-run compares in strict DRY_RUN, re-hashes every copy and stays clean', async () => {
    const result = await upgrade({ strictDryRun: true });
    expect(result.error).toBeUndefined();
    expect(result.outcome).toBe('passed');
    const detail = shadowStepOf(result).detail as Record<string, unknown>;
    expect(detail).toMatchObject({ mode: 'dry_run', mode_reason: 'strict DRY_RUN asked for (--strict-dry-run)', count: 0 });
    // Four snapshot copies, three empty fresh-state dirs, the candidate's DRY_RUN copy.
    expect((detail.dry_run_check as Record<string, unknown>).copies_verified).toBe(8);
    const shadow = await readShadowJson(result.shadow!.shadowJson);
    expect(shadow.state).toBeUndefined();
    expect(shadow.lane_mode?.mode).toBe('dry_run');
    await expectNothingLeft(result);
  }, 600_000);

  it('falls back to strict DRY_RUN for all lanes when the baseline cannot sandbox (recorded in steps.json and the report)', async () => {
    // The baseline (HEAD) is a worker older than the sandbox: it ignores WVO_SANDBOX and would run LIVE.
    const cli = join(ws.dir, 'worker/src/cli.ts');
    const original = readFileSync(cli, 'utf8');
    const old = original.replace("sandbox: options.sandbox ?? process.env.WVO_SANDBOX === '1',", 'sandbox: false,');
    expect(old).not.toBe(original);
    writeFileSync(cli, old);
    await ws.git('commit', '-qam', 'a worker that cannot sandbox');
    writeFileSync(cli, original);
    try {
      const result = await upgrade();
      expect(result.error).toBeUndefined();
      expect(result.outcome).toBe('passed');
      const step = shadowStepOf(result);
      expect(step.detail).toMatchObject({ mode: 'dry_run' });
      expect(String((step.detail as Record<string, unknown>).mode_reason)).toMatch(/^baseline cannot sandbox \(\/version says live\): compared in strict DRY_RUN$/);
      const steps = stepsFileSchema.parse(JSON.parse(readFileSync(join(result.artifactsDir, 'steps.json'), 'utf8')));
      expect(JSON.stringify(steps.steps.find((s) => s.name === 'shadow')?.detail)).toContain('baseline cannot sandbox');
      const html = readFileSync(result.shadow!.reportHtml, 'utf8');
      expect(html).toContain('baseline cannot sandbox (/version says live): compared in strict DRY_RUN');
      // The copies the old baseline opened LIVE were restored before the DRY_RUN lanes started: all verified.
      expect((step.detail as Record<string, { copies_verified: number }>).dry_run_check!.copies_verified).toBe(8);
      await expectNothingLeft(result);
    } finally {
      await ws.git('reset', '-q', '--hard', 'HEAD~1');
    }
  }, 600_000);
});
