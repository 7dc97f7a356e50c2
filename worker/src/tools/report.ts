import { z } from 'zod';
import { WorkerError } from '../errors.js';
import { getTask, newlyReadyDependents, setTaskStatus, type TaskStatus } from '../store/tasks.js';
import { AGENT_NAME } from './dispatch.js';
import { taskNotFound } from './task-spec.js';
import { defineTool } from './tool.js';

export const REPORT_OUTCOMES = ['done', 'failed', 'retry'] as const;
export type ReportOutcome = (typeof REPORT_OUTCOMES)[number];

/** Where each outcome leaves the task: `retry` returns it to the queue. */
export const OUTCOME_STATUS: Record<ReportOutcome, TaskStatus> = { done: 'done', failed: 'failed', retry: 'open' };

export const ReportInput = z
  .object({
    task_id: z.string().min(1).max(64),
    outcome: z.enum(REPORT_OUTCOMES),
    notes: z.string().max(2000).default(''),
    agent: AGENT_NAME.default('agent'),
  })
  .strict();

export const reportTool = defineTool({
  name: 'report',
  title: 'Report an outcome',
  description: 'Record the outcome of a task in progress: done (needs a passing verification), failed, or retry.',
  input: ReportInput,
  writes: true,
  run(context, input) {
    const at = context.now();
    return context.answerTx(() => {
      const task = getTask(context.db, input.task_id);
      if (!task) throw taskNotFound(input.task_id);
      if (task.status !== 'in_progress') {
        throw new WorkerError('WVO_TASK_STATE', `task ${task.id} is ${task.status}; only a task in progress can be reported`, {
          subject: 'task_id',
          details: { status: task.status },
        });
      }
      if (input.outcome === 'done') {
        const latest = context.db
          .prepare('SELECT passed FROM verifications WHERE task_id = ? ORDER BY id DESC LIMIT 1')
          .get(task.id) as { passed: number } | undefined;
        if (!latest || latest.passed !== 1) {
          throw new WorkerError('WVO_TASK_NOT_VERIFIED', `task ${task.id} has no passing verification`, {
            subject: 'outcome',
            hint: 'Run verify until it passes, or report failed/retry.',
            details: { last_verification: latest ? 'failed' : 'none' },
          });
        }
      }
      const status = OUTCOME_STATUS[input.outcome];
      const reportId = context.insert('reports', (id) =>
        Number(
          context.db
            .prepare('INSERT INTO reports (id, task_id, agent, outcome, notes, created_at) VALUES (?, ?, ?, ?, ?, ?)')
            .run(id, task.id, input.agent, input.outcome, input.notes, at).lastInsertRowid,
        ),
      );
      setTaskStatus(context.db, task.id, status, at);
      context.event({ at, kind: 'reported', taskId: task.id, payload: { report_id: reportId, outcome: input.outcome } });
      return {
        task_id: task.id,
        report_id: reportId,
        outcome: input.outcome,
        status,
        unblocked: input.outcome === 'done' ? newlyReadyDependents(context.db, task.id) : [],
      };
    });
  },
});
