import type { z } from 'zod';
import { commonErrors } from './common-errors.js';

/**
 * Validate an options object (CLI flags or an API body) with its zod schema. The first problem
 * becomes WVO_OPTIONS_INVALID (exit 2) naming the field, spelled as the caller's users know it
 * (`names`: `keep` → `--keep`); nothing has happened yet when it is thrown.
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  input: unknown,
  source: string,
  spelling: { names?: Readonly<Record<string, string>>; hint?: (key: string) => string } = {},
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const key = String(issue.path[0] ?? '');
  const field = spelling.names?.[key] ?? (issue.path.join('.') || '(root)');
  throw commonErrors.create('WVO_OPTIONS_INVALID', `${source}: ${field}: ${issue.message}`, {
    subject: field,
    ...(spelling.hint ? { hint: spelling.hint(key) } : {}),
  });
}
