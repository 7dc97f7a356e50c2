import { z } from 'zod';

/**
 * The task-command DSL. A discriminated union on `kind`; every object is strict, so a key the
 * DSL does not know (`shell`, `env`, `cwd`, ...) is rejected, not ignored.
 */
export const ExecCommand = z
  .object({
    kind: z.literal('exec'),
    program: z.string().min(1).max(64),
    args: z.array(z.string().max(256)).max(32).default([]),
    timeout_ms: z.number().int().positive().max(600_000).optional(),
  })
  .strict();

/** A step that runs nothing (planning or manual work); it always succeeds. */
export const NoopCommand = z
  .object({
    kind: z.literal('noop'),
    note: z.string().max(200).optional(),
  })
  .strict();

export const TaskCommand = z.discriminatedUnion('kind', [ExecCommand, NoopCommand]);
export type TaskCommand = z.infer<typeof TaskCommand>;
export type ExecCommand = z.infer<typeof ExecCommand>;

export const TaskCheck = z
  .object({
    name: z.string().min(1).max(64),
    command: TaskCommand,
    /** Areas this check covers; with SELECTIVE_TESTS=on a tagged check runs only for them. */
    tags: z.array(z.string().min(1).max(32)).max(8).optional(),
  })
  .strict();
export type TaskCheck = z.infer<typeof TaskCheck>;

/** What tasks.command_spec holds. */
export const TaskSpec = z
  .object({
    command: TaskCommand,
    checks: z.array(TaskCheck).max(16).default([]),
  })
  .strict();
export type TaskSpec = z.infer<typeof TaskSpec>;
