import { WorkerError } from '../errors.js';
import { TaskSpec } from '../executor/command-dsl.js';
import type { TaskRow } from '../store/tasks.js';
import { fieldPath } from './tool-result.js';

/** A stored command spec read back through the DSL; a bad one is WVO_TASK_SPEC_INVALID naming the field. */
export function parseTaskSpec(task: Pick<TaskRow, 'id' | 'command_spec'>): TaskSpec {
  let json: unknown;
  try {
    json = JSON.parse(task.command_spec);
  } catch {
    throw new WorkerError('WVO_TASK_SPEC_INVALID', `task ${task.id} has a command spec that is not JSON`, {
      subject: `tasks[${task.id}].command_spec`,
    });
  }
  const parsed = TaskSpec.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const keys = issue?.code === 'unrecognized_keys' ? `.${issue.keys[0] ?? ''}` : '';
    const field = `tasks[${task.id}].command_spec${issue?.path.length ? `.${fieldPath(issue.path)}` : ''}${keys}`;
    throw new WorkerError('WVO_TASK_SPEC_INVALID', `${field}: ${issue?.message ?? 'invalid'}`, {
      subject: field,
      hint: 'Fix the task in the database (the spec must match the task-command DSL).',
    });
  }
  return parsed.data;
}

export function taskNotFound(id: string): WorkerError {
  return new WorkerError('WVO_TASK_NOT_FOUND', `no task ${id}`, { subject: 'task_id', details: { task_id: id } });
}
