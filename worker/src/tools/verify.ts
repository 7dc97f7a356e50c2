import { z } from 'zod';
import { WorkerError } from '../errors.js';
import type { TaskCheck } from '../executor/command-dsl.js';
import type { ExecutionResult } from '../executor/executor.js';
import { reviewByPanel, type CriticState } from '../operations/critics.js';
import { getTask } from '../store/tasks.js';
import { parseTaskSpec, taskNotFound } from './task-spec.js';
import { defineTool } from './tool.js';

export const VerifyInput = z.object({ task_id: z.string().min(1).max(64) }).strict();

/** Pure: which checks run. With SELECTIVE_TESTS on, a tagged check runs only for its areas. */
export function selectChecks(checks: readonly TaskCheck[], area: string, selective: boolean): boolean[] {
  return checks.map((check) => !selective || !check.tags || check.tags.length === 0 || check.tags.includes(area));
}

export const verifyTool = defineTool({
  name: 'verify',
  title: 'Verify a task',
  description: "Run the task's checks; critics score the result and their reputation updates.",
  input: VerifyInput,
  writes: true,
  async run(context, input) {
    const task = getTask(context.db, input.task_id);
    if (!task) throw taskNotFound(input.task_id);
    const dispatched = context.db.prepare('SELECT COUNT(*) AS n FROM dispatches WHERE task_id = ?').get(task.id) as { n: number };
    if (task.status !== 'in_progress' || dispatched.n === 0) {
      throw new WorkerError('WVO_TASK_STATE', `task ${task.id} is ${task.status}; only a dispatched task in progress can be verified`, {
        subject: 'task_id',
        details: { status: task.status, dispatches: dispatched.n },
        hint: 'dispatch the task first.',
      });
    }
    const spec = parseTaskSpec(task);
    const flags = context.flags();
    const sandbox = flags.SANDBOX_MODE.value === 'strict';
    const selective = flags.SELECTIVE_TESTS.value === 'on';
    const selected = selectChecks(spec.checks, task.area, selective);
    // Plan every selected check first: a check the allow-list refuses fails the call before any runs.
    const plans = spec.checks.map((check, index) =>
      selected[index] ? context.executor.plan(check.command, { sandbox, fieldPrefix: `tasks[${task.id}].checks[${index}].command` }) : undefined,
    );
    const results: Array<ExecutionResult | undefined> = [];
    for (const plan of plans) results.push(plan ? await context.execute(plan) : undefined);

    const checks = spec.checks.map((check, index) => {
      const result = results[index];
      return {
        name: check.name,
        selected: selected[index] ?? false,
        status: result?.status ?? 'not_selected',
        exit_code: result?.exit_code ?? null,
        duration_ms: result?.duration_ms ?? 0,
        argv: result?.argv ?? [],
        // `not_recorded` here is a sandbox coverage gap: it counts as not passing, the same on every lane.
        source: result?.source ?? null,
      };
    });
    const ran = results.filter((result): result is ExecutionResult => result !== undefined);
    const base = { task_id: task.id, selective_tests: selective, checks };
    if (ran.some((result) => result.status === 'would_run')) {
      // DRY_RUN: nothing ran, so there is nothing for critics to score.
      return { ...base, verdict: 'not_run', passed: null, pass_ratio: null, critics: null };
    }
    const passRatio = ran.length === 0 ? 1 : ran.filter((result) => result.status === 'succeeded').length / ran.length;
    const at = context.now();
    // The row keeps the checks' outcomes, not the lane marker `source` (spawned live, replayed in a
    // sandbox): the same history must leave the same state on every lane (journal replay parity).
    const stored = JSON.stringify(checks.map(({ source: _source, ...outcome }) => outcome));
    return context.answerTx(() => {
      const critics = context.db.prepare('SELECT id, name, strictness, reputation FROM critics ORDER BY id').all() as CriticState[];
      const panel = reviewByPanel(critics, passRatio);
      const passed = passRatio >= 1 && panel.approved;
      const verificationId = context.insert('verifications', (id) =>
        Number(
          context.db
            .prepare('INSERT INTO verifications (id, task_id, passed, checks, critic_score, created_at) VALUES (?, ?, ?, ?, ?, ?)')
            .run(id, task.id, passed ? 1 : 0, stored, panel.consensus, at).lastInsertRowid,
        ),
      );
      const updateCritic = context.db.prepare(
        'UPDATE critics SET reputation = ?, reviews = reviews + 1, agreements = agreements + ? WHERE id = ?',
      );
      const history = context.db.prepare(
        `INSERT INTO critic_history (id, critic_id, verification_id, verdict, score, agreed, reputation_after, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const review of panel.reviews) {
        updateCritic.run(review.reputation_after, review.agreed ? 1 : 0, review.critic_id);
        context.insert('critic_history', (id) =>
          Number(
            history.run(id, review.critic_id, verificationId, review.verdict, review.score, review.agreed ? 1 : 0, review.reputation_after, at)
              .lastInsertRowid,
          ),
        );
      }
      context.event({ at, kind: 'verified', taskId: task.id, payload: { verification_id: verificationId, passed } });
      return {
        ...base,
        verification_id: verificationId,
        verdict: passed ? 'passed' : 'failed',
        passed,
        pass_ratio: Math.round(passRatio * 10_000) / 10_000,
        critics: { consensus: panel.consensus, approved: panel.approved, reviews: panel.reviews },
      };
    });
  },
});
