import { TaskSpec } from '../executor/command-dsl.js';
import { Executor, type ExecutionPlan, type ExecutionResult } from '../executor/executor.js';
import { commandFingerprint } from '../executor/fingerprint.js';
import { recordOf } from '../executor/run-journal.js';
import type { Db } from '../store/database.js';
import { insertRun } from '../store/executor-runs.js';
import type { Prng } from './prng.js';

/**
 * Pure: what the live executor gets from a program whose outcome needs no running: `true`, `false`
 * and `echo` (without options). Held to the real executor by test/integration/worker-seed-runs.test.ts.
 * Undefined = this program must really run (the seed leaves it unrecorded).
 */
export function predictRun(plan: ExecutionPlan, durationMs: number): ExecutionResult | undefined {
  if (plan.kind !== 'exec') return undefined;
  const [program, ...args] = plan.argv;
  const base = { argv: plan.argv, timeout_ms: plan.timeout_ms, source: 'spawned' as const, stderr: '', truncated: false, duration_ms: durationMs };
  if (program === 'true' && args.length === 0) return { ...base, status: 'succeeded', exit_code: 0, stdout: '' };
  if (program === 'false' && args.length === 0) return { ...base, status: 'failed', exit_code: 1, stdout: '' };
  if (program === 'echo' && !args.some((arg) => arg.startsWith('-'))) return { ...base, status: 'succeeded', exit_code: 0, stdout: args.join(' ') };
  return undefined;
}

/** Every exec plan of the tasks (command, then checks), as a live worker with SANDBOX_MODE=off plans them, once per fingerprint. */
export function seededPlans(specs: readonly string[]): ExecutionPlan[] {
  // The live worker's executor defaults (timeout, output cap); cwd is not part of a fingerprint.
  const executor = new Executor({ dryRun: false, cwd: '.', sandboxDir: '.' });
  const seen = new Set<string>();
  const plans: ExecutionPlan[] = [];
  for (const text of specs) {
    const spec = TaskSpec.parse(JSON.parse(text));
    for (const command of [spec.command, ...spec.checks.map((check) => check.command)]) {
      if (command.kind !== 'exec') continue;
      const plan = executor.plan(command, { sandbox: false });
      const fingerprint = commandFingerprint(plan);
      if (seen.has(fingerprint)) continue;
      seen.add(fingerprint);
      plans.push(plan);
    }
  }
  return plans;
}

/**
 * The seeded state's executor history (inside the seed's transaction): one record per distinct
 * command, so a sandbox replays them instead of answering not_recorded. The last `unrecorded`
 * commands are left out on purpose (coverage-gap fixtures). Returns how many were recorded.
 */
export function seedExecutorRuns(db: Db, specs: readonly string[], options: { rng: Prng; at: string; unrecorded: number }): number {
  const plans = seededPlans(specs);
  let recorded = 0;
  for (const plan of plans.slice(0, Math.max(0, plans.length - options.unrecorded))) {
    const result = predictRun(plan, options.rng.int(1, 40));
    if (!result) continue;
    insertRun(db, recordOf(plan, result), options.at);
    recorded += 1;
  }
  return recorded;
}
