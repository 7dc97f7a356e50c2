import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { isWvoError } from '../../../common/src/errors.js';
import { WorkerError } from '../errors.js';
import type { WorkerMode } from '../mode.js';
import { commonErrors } from '../../../common/src/common-errors.js';

/** `command.args[2]` from a zod path. */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, part) => {
    if (typeof part === 'number') return `${out}[${part}]`;
    return out ? `${out}.${String(part)}` : String(part);
  }, '');
}

/** The first zod issue as a coded error naming the field (an unknown key is named itself). */
export function inputError(error: z.ZodError, prefix = ''): WorkerError {
  const issue = error.issues[0];
  const join = (field: string) => (prefix && field ? `${prefix}.${field}` : prefix || field);
  if (!issue) return new WorkerError('WVO_TOOL_INPUT_INVALID', 'invalid input', { subject: prefix || '(root)' });
  let field = fieldPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    field = field ? `${field}.${key}` : key;
  } else if (
    issue.code === 'invalid_union' &&
    'discriminator' in issue &&
    typeof issue.discriminator === 'string' &&
    issue.path.at(-1) !== issue.discriminator
  ) {
    field = field ? `${field}.${issue.discriminator}` : issue.discriminator;
  }
  const subject = join(field) || '(root)';
  return new WorkerError('WVO_TOOL_INPUT_INVALID', `${subject}: ${issue.message}`, {
    subject,
    details: { issues: error.issues.slice(0, 5).map((i) => ({ path: fieldPath(i.path), message: i.message })) },
  });
}

function text(body: Record<string, unknown>): CallToolResult['content'] {
  return [{ type: 'text', text: JSON.stringify(body) }];
}

/**
 * The mode marker every answer ends with: `dry_run` as always (true only in strict DRY_RUN), and
 * `sandbox: true` only in sandbox mode, so live answers are unchanged and two sandbox lanes agree.
 */
export function modeFields(mode: WorkerMode): { dry_run: boolean; sandbox?: true } {
  return mode === 'sandbox' ? { dry_run: false, sandbox: true } : { dry_run: mode === 'dry_run' };
}

/** `_meta` of a result: present only when something (a replay) put a key there. */
function withMeta(result: CallToolResult, meta: Record<string, unknown> | undefined): CallToolResult {
  return meta === undefined ? result : { ...result, _meta: meta };
}

export function okResult(body: Record<string, unknown>, mode: WorkerMode, meta?: Record<string, unknown>): CallToolResult {
  return withMeta({ content: text({ ...body, ...modeFields(mode) }) }, meta);
}

/** A tool error's body without the mode markers (what the journal digests). */
export function errorBody(error: unknown): Record<string, unknown> {
  const coded = isWvoError(error)
    ? error
    : commonErrors.create('WVO_INTERNAL', error instanceof Error ? error.message : String(error));
  return {
    code: coded.code,
    message: coded.message,
    field: coded.subject ?? null,
    ...(coded.hint === undefined ? {} : { hint: coded.hint }),
    ...(coded.details === undefined ? {} : { details: coded.details }),
  };
}

/** A tool error: `{code, message, field, hint?, details?, dry_run, sandbox?}` with isError. */
export function errorResult(error: unknown, mode: WorkerMode, meta?: Record<string, unknown>): CallToolResult {
  return withMeta({ isError: true, content: text({ ...errorBody(error), ...modeFields(mode) }) }, meta);
}
