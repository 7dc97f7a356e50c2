/**
 * Errors are values with stable codes (fastify's FST_ERR_* model). Every code thrown anywhere in
 * WVO is documented in docs/errors.md; test/unit/errors-documented.test.ts enforces it.
 */
export interface WvoErrorOptions {
  /** The offending input: a flag, a field's JSON path, a file, an endpoint. */
  readonly subject?: string;
  /** What the user should do next. */
  readonly hint?: string;
  /** Extra machine-readable detail (kept small: it is printed with --json). */
  readonly details?: Record<string, unknown>;
  /** Process exit code for the CLI: 1 failure (default), 2 usage error. */
  readonly exitCode?: 1 | 2;
  /** HTTP status an API answers with (set from the room's error catalogue; default 500). */
  readonly status?: number;
  readonly cause?: unknown;
}

export class WvoError extends Error {
  readonly code: string;
  readonly subject: string | undefined;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly exitCode: 1 | 2;
  readonly status: number;

  constructor(code: string, message: string, options: WvoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WvoError';
    this.code = code;
    this.subject = options.subject;
    this.hint = options.hint;
    this.details = options.details;
    this.exitCode = options.exitCode ?? 1;
    this.status = options.status ?? 500;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.subject === undefined ? {} : { subject: this.subject }),
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isWvoError(error: unknown): error is WvoError {
  return error instanceof WvoError;
}

/** One line for a human: `WVO_X: message (subject) — hint`. */
export function formatError(error: unknown): string {
  if (isWvoError(error)) {
    const subject = error.subject ? ` [${error.subject}]` : '';
    const hint = error.hint ? `\n  hint: ${error.hint}` : '';
    return `${error.code}: ${error.message}${subject}${hint}`;
  }
  if (error instanceof Error) return `WVO_INTERNAL: ${error.message}`;
  return `WVO_INTERNAL: ${String(error)}`;
}

export function toErrorJson(error: unknown): Record<string, unknown> {
  if (isWvoError(error)) return error.toJSON();
  return { code: 'WVO_INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
