import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { dbPathFor, seedState } from '../../worker/src/index.js';
import { Executor } from '../../worker/src/executor/executor.js';
import { recordOf } from '../../worker/src/executor/run-journal.js';
import { predictRun, seededPlans } from '../../worker/src/seed/seed-runs.js';
import { call, connect, startWorkerProcess, tempStateRoot, type WorkerProcess } from './worker-helpers.js';

describe('seeded executor history (wvo-worker seed records what its tasks run)', () => {
  const cleanups: Array<() => void> = [];
  const processes: WorkerProcess[] = [];
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((worker) => worker.stop()));
    cleanups.splice(0).forEach((cleanup) => cleanup());
  });

  function dir(): string {
    const made = tempStateRoot();
    cleanups.push(made.cleanup);
    return made.dir;
  }

  function runs(stateRoot: string): Array<Record<string, unknown>> {
    const db = new Database(dbPathFor(stateRoot), { readonly: true });
    try {
      return db.prepare('SELECT * FROM executor_runs ORDER BY id').all() as Array<Record<string, unknown>>;
    } finally {
      db.close();
    }
  }

  it('predicted records equal what the real executor records for true, false and echo (but the duration)', async () => {
    const work = dir();
    const executor = new Executor({ dryRun: false, cwd: work, sandboxDir: work });
    const commands = [
      { kind: 'exec' as const, program: 'true', args: [] },
      { kind: 'exec' as const, program: 'false', args: [] },
      { kind: 'exec' as const, program: 'echo', args: ['running', 'T-0001'] },
      { kind: 'exec' as const, program: 'echo', args: [] },
    ];
    for (const command of commands) {
      const plan = executor.plan(command, { sandbox: false });
      const real = recordOf(plan, await executor.run(plan));
      const predicted = recordOf(plan, predictRun(plan, real.duration_ms)!);
      expect(predicted, command.program).toEqual(real);
    }
    // Not predictable: left for a real run (unrecorded by the seed).
    expect(predictRun(executor.plan({ kind: 'exec', program: 'echo', args: ['-n', 'x'] }, { sandbox: false }), 1)).toBeUndefined();
    expect(predictRun(executor.plan({ kind: 'exec', program: 'sleep', args: ['1'] }, { sandbox: false }), 1)).toBeUndefined();
  });

  it('500 tasks: one record per distinct command, deterministic, fast; a sandbox replays seeded commands instead of not_recorded', async () => {
    const a = dir();
    const b = dir();
    const started = performance.now();
    const summary = seedState({ stateRoot: a, tasks: 500, seed: 42 });
    const seconds = (performance.now() - started) / 1000;
    seedState({ stateRoot: b, tasks: 500, seed: 42 });
    const recorded = runs(a);
    const specs = (() => {
      const db = new Database(dbPathFor(a), { readonly: true });
      try {
        return (db.prepare('SELECT command_spec FROM tasks ORDER BY id').all() as Array<{ command_spec: string }>).map((row) => row.command_spec);
      } finally {
        db.close();
      }
    })();
    expect(summary.executor_runs).toBe(seededPlans(specs).length);
    expect(recorded).toHaveLength(summary.executor_runs);
    expect(recorded.length).toBeGreaterThan(500);
    expect(new Set(recorded.map((run) => run.fingerprint)).size).toBe(recorded.length);
    expect(runs(b)).toEqual(recorded);
    console.log(`[seed] 500 tasks with ${recorded.length} executor records in ${seconds.toFixed(2)} s`);

    const sandbox = await startWorkerProcess(a, { WVO_SANDBOX: '1' });
    processes.push(sandbox);
    const client = await connect(sandbox.url);
    try {
      const inProgress = (() => {
        const db = new Database(dbPathFor(a), { readonly: true });
        try {
          return (db.prepare("SELECT id FROM tasks WHERE status = 'in_progress' ORDER BY id LIMIT 1").get() as { id: string }).id;
        } finally {
          db.close();
        }
      })();
      const verified = await call(client, 'verify', { task_id: inProgress });
      expect(verified.isError).toBe(false);
      expect(verified.body.checks.filter((check: { selected: boolean }) => check.selected).map((check: { source: string }) => check.source)).toEqual(
        expect.arrayContaining(['replayed']),
      );
      expect(verified.body.checks.some((check: { source: string }) => check.source === 'not_recorded')).toBe(false);
      const dispatched = await call(client, 'dispatch', { agent: 'shadow' });
      expect(dispatched.body.execution.source === 'replayed' || dispatched.body.execution.source === 'none').toBe(true);
    } finally {
      await client.close();
    }
  });

  it('--unrecorded N leaves the last N distinct commands without a record (coverage-gap fixtures)', () => {
    const all = dir();
    const gaps = dir();
    const full = seedState({ stateRoot: all, tasks: 40, seed: 3 }).executor_runs;
    expect(seedState({ stateRoot: gaps, tasks: 40, seed: 3, unrecordedRuns: 3 }).executor_runs).toBe(full - 3);
    expect(runs(gaps).map((run) => run.fingerprint)).toEqual(runs(all).slice(0, full - 3).map((run) => run.fingerprint));
    expect(() => seedState({ stateRoot: dir(), tasks: 5, unrecordedRuns: -1 })).toThrow(expect.objectContaining({ code: 'WVO_WORKER_OPTIONS_INVALID', subject: '--unrecorded' }));
  });
});
