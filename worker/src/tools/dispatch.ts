import { z } from 'zod';
import { WorkerError } from '../errors.js';
import { TaskCommand, type TaskSpec } from '../executor/command-dsl.js';
import type { ExecutionPlan, ExecutionResult } from '../executor/executor.js';
import { promptTokens } from '../operations/token-pressure.js';
import { claimTask, dependencyIds, getTask, isReady, readyTasks, unmetDependencies, type TaskRow } from '../store/tasks.js';
import { parseTaskSpec, taskNotFound } from './task-spec.js';
import { defineTool, type ToolContext } from './tool.js';

export const AGENT_NAME = z.string().regex(/^[\w.@-]{1,64}$/, 'letters, digits, . _ @ - (1-64)');

export const DispatchInput = z
  .object({
    agent: AGENT_NAME.default('agent'),
    /** Without it, the highest-priority ready task is claimed. */
    task_id: z.string().min(1).max(64).optional(),
    /** Runs this command instead of the task's own (still allow-listed). */
    command: TaskCommand.optional(),
  })
  .strict();

/** Pure: the prompt an agent would get; `compact` drops the context. */
export function buildPrompt(task: TaskRow, spec: TaskSpec, argv: readonly string[], mode: 'standard' | 'compact'): string {
  const command = argv.length ? argv.join(' ') : '(no command)';
  if (mode === 'compact') return `${task.id}: ${task.title}\n$ ${command}`;
  const deps = dependencyIds(task);
  return [
    `Task ${task.id} (priority ${task.priority}, area ${task.area}): ${task.title}`,
    `Depends on: ${deps.length ? deps.join(', ') : 'nothing'}`,
    `Command: ${command}`,
    `Checks: ${spec.checks.length ? spec.checks.map((check) => check.name).join(', ') : 'none'}`,
    `Attempt: ${task.attempts + 1}`,
  ].join('\n');
}

function pickTask(context: ToolContext, taskId: string | undefined): TaskRow {
  if (taskId === undefined) {
    const next = readyTasks(context.db, 1)[0];
    if (!next) {
      throw new WorkerError('WVO_QUEUE_EMPTY', 'no ready task to dispatch', {
        subject: 'task_id',
        hint: 'Every open task waits on a dependency, or the queue is empty; see plan_next.',
      });
    }
    return next;
  }
  const task = getTask(context.db, taskId);
  if (!task) throw taskNotFound(taskId);
  if (!isReady(context.db, taskId)) {
    throw new WorkerError('WVO_TASK_NOT_READY', `task ${taskId} is ${task.status}${task.status === 'open' ? ' but blocked' : ''}`, {
      subject: 'task_id',
      details: { status: task.status, unmet_dependencies: unmetDependencies(context.db, task) },
    });
  }
  return task;
}

function outputOf(result: ExecutionResult): string {
  return [result.stdout, result.stderr].filter(Boolean).join('\n').slice(0, 4096);
}

export const dispatchTool = defineTool({
  name: 'dispatch',
  title: 'Dispatch a task',
  description: 'Claim a ready task atomically and run its command through the allow-listed executor.',
  input: DispatchInput,
  writes: true,
  async run(context, input) {
    const at = context.now();
    // Flags are read inside the claim's transaction: the journal orders this call by that
    // transaction, so a replay sees the same flags (a flag write cannot slip in between).
    const claim = context.tx(() => {
      const flags = context.flags();
      const sandbox = flags.SANDBOX_MODE.value === 'strict';
      const mode = flags.PROMPT_MODE.value;
      // An override is checked before anything is claimed: a rejected command changes nothing.
      const override = input.command ? context.executor.plan(input.command, { sandbox, fieldPrefix: 'command' }) : undefined;
      const task = pickTask(context, input.task_id);
      const spec = parseTaskSpec(task);
      const plan: ExecutionPlan = override ?? context.executor.plan(spec.command, { sandbox, fieldPrefix: `tasks[${task.id}].command` });
      if (!claimTask(context.db, task.id, input.agent, at)) {
        throw new WorkerError('WVO_TASK_NOT_READY', `task ${task.id} was claimed by someone else`, { subject: 'task_id' });
      }
      const prompt = buildPrompt(task, spec, plan.argv, mode);
      const tokens = promptTokens(task.estimated_tokens, prompt, mode);
      const dispatchId = context.insert('dispatches', (id) =>
        Number(
          context.db
            .prepare(
              `INSERT INTO dispatches (id, task_id, agent, status, argv, prompt_mode, prompt_tokens, started_at)
               VALUES (?, ?, ?, 'running', ?, ?, ?, ?)`,
            )
            .run(id, task.id, input.agent, JSON.stringify(plan.argv), mode, tokens, at).lastInsertRowid,
        ),
      );
      context.event({ at, kind: 'dispatched', taskId: task.id, payload: { dispatch_id: dispatchId, agent: input.agent } });
      return { task, plan, dispatchId, prompt, tokens, mode, overridden: override !== undefined };
    });

    let result: ExecutionResult;
    try {
      result = await context.execute(claim.plan);
    } catch (error) {
      // Key order as the executor's spawn builds it (a replay of this answer is then byte-identical).
      result = {
        argv: claim.plan.argv,
        timeout_ms: claim.plan.timeout_ms,
        source: 'spawned',
        status: 'failed',
        exit_code: null,
        stdout: '',
        stderr: '',
        truncated: false,
        duration_ms: 0,
        error: { code: 'WVO_EXEC_SPAWN_FAILED', message: error instanceof Error ? error.message : String(error) },
      };
      context.call.noteRun(claim.plan, result);
    }
    const finished = context.now();
    // The answer is built inside the last write transaction: the journal entry closes with it.
    return context.answerTx(() => {
      context.db
        .prepare('UPDATE dispatches SET status = ?, exit_code = ?, output = ?, duration_ms = ?, finished_at = ? WHERE id = ?')
        .run(result.status, result.exit_code, outputOf(result), result.duration_ms, finished, claim.dispatchId);
      context.event({
        at: finished,
        kind: 'executed',
        taskId: claim.task.id,
        payload: { dispatch_id: claim.dispatchId, status: result.status, exit_code: result.exit_code },
      });
      return {
        task: { id: claim.task.id, title: claim.task.title, priority: claim.task.priority, area: claim.task.area },
        dispatch_id: claim.dispatchId,
        agent: input.agent,
        prompt: { mode: claim.mode, text: claim.prompt, tokens: claim.tokens },
        execution: {
          ...result,
          cwd_kind: claim.plan.sandbox ? 'sandbox' : 'workdir',
          overridden: claim.overridden,
        },
      };
    });
  },
});
