import { z } from 'zod';
import { operationsErrors } from './errors.js';

/** `wvo rollback [<id>] [--reason]` and `POST /deployments/:id/rollback`: one options type. */
export const rollbackOptionsSchema = z.strictObject({
  /** Deployment id; default the running deployment, else the newest promoted one. */
  id: z.string().min(1).optional(),
  reason: z.string().min(1).default('rollback requested by the operator'),
});
export type RollbackOptions = z.output<typeof rollbackOptionsSchema>;

/** `wvo resume [<id>]`: default the running deployment. */
export const resumeOptionsSchema = z.strictObject({ id: z.string().min(1).optional() });
export type ResumeOptions = z.output<typeof resumeOptionsSchema>;

function parseWith<T>(schema: z.ZodType<T>, input: unknown, command: string): T {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.join('.') || '(options)';
  throw operationsErrors.create('WVO_DEPLOY_OPTION_INVALID', `invalid ${command} option ${path}: ${issue.message}`, {
    subject: path,
    hint: `see \`wvo ${command} --help\``,
  });
}

export const parseRollbackOptions = (input: unknown): RollbackOptions => parseWith(rollbackOptionsSchema, input, 'rollback');
export const parseResumeOptions = (input: unknown): ResumeOptions => parseWith(resumeOptionsSchema, input, 'resume');
