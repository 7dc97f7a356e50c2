import { defineErrors, type CatalogueErrorOptions, type ErrorSpec } from '../../common/src/error-catalogue.js';
import { WvoError } from '../../common/src/errors.js';

/**
 * Every code the worker raises, in one place (documented in docs/errors.md under "## Worker").
 * Tool errors carry these in the JSON body of an MCP tool result with `isError: true`;
 * HTTP-level errors carry them in JSON-RPC `error.data.code`.
 */
export const WORKER_ERROR_CODES = [
  'WVO_JSONRPC_PARSE',
  'WVO_JSONRPC_INVALID',
  'WVO_BODY_TOO_LARGE',
  'WVO_CONTENT_TYPE',
  'WVO_SESSION_MISSING',
  'WVO_SESSION_UNKNOWN',
  'WVO_DRAINING',
  'WVO_TOOL_UNKNOWN',
  'WVO_TOOL_INPUT_INVALID',
  'WVO_TASK_NOT_FOUND',
  'WVO_TASK_NOT_READY',
  'WVO_TASK_STATE',
  'WVO_TASK_NOT_VERIFIED',
  'WVO_TASK_SPEC_INVALID',
  'WVO_QUEUE_EMPTY',
  'WVO_EXEC_NOT_ALLOWED',
  'WVO_EXEC_ARG_REJECTED',
  'WVO_EXEC_SHELL_METACHAR',
  'WVO_EXEC_PATH_TRAVERSAL',
  'WVO_EXEC_SANDBOX_DENIED',
  'WVO_EXEC_SPAWN_FAILED',
  'WVO_STATE_ROOT_UNWRITABLE',
  'WVO_DB_OPEN_FAILED',
  'WVO_DB_CLOSED',
  'WVO_SCHEMA_TOO_NEW',
  'WVO_SCHEMA_BEHIND',
  'WVO_MIGRATION_FAILED',
  'WVO_SHADOW_SUMMARY_INVALID',
  'WVO_WORKER_OPTIONS_INVALID',
  'WVO_WORKER_MODE_CONFLICT',
  'WVO_REPLAY_NOT_SANDBOX',
  'WVO_REPLAY_INVALID',
  'WVO_REPLAY_OUT_OF_ORDER',
  'WVO_JOURNAL_PARAM_INVALID',
  'WVO_JOURNAL_AFTER_HEAD',
  'WVO_JOURNAL_PRUNED',
  'WVO_JOURNAL_UNAVAILABLE',
] as const;
export type WorkerErrorCode = (typeof WORKER_ERROR_CODES)[number];

/**
 * The worker's catalogue. Statuses are those server.ts answers on /mcp (it still writes them
 * inline); tool errors travel inside MCP tool results. A code added to WORKER_ERROR_CODES fails
 * the type check until it is declared here.
 */
export const workerErrors = defineErrors('worker', {
  WVO_JSONRPC_PARSE: { message: 'The body is not JSON', status: 400 },
  WVO_JSONRPC_INVALID: { message: 'The body is not a JSON-RPC 2.0 message', status: 400 },
  WVO_BODY_TOO_LARGE: { message: 'The request body is over 1 MiB', status: 413 },
  WVO_CONTENT_TYPE: { message: 'Content-Type must be application/json', status: 415 },
  WVO_SESSION_MISSING: { message: 'Mcp-Session-Id is missing', status: 400 },
  WVO_SESSION_UNKNOWN: { message: 'Session not found', status: 404 },
  WVO_DRAINING: { message: 'The worker is shutting down', status: 503 },
  WVO_TOOL_UNKNOWN: { message: 'No such tool' },
  WVO_TOOL_INPUT_INVALID: { message: 'Tool arguments failed validation' },
  WVO_TASK_NOT_FOUND: { message: 'No such task' },
  WVO_TASK_NOT_READY: { message: 'The task is not ready' },
  WVO_TASK_STATE: { message: 'The task is not in progress' },
  WVO_TASK_NOT_VERIFIED: { message: "The task's latest verification did not pass" },
  WVO_TASK_SPEC_INVALID: { message: "The task's command spec is invalid" },
  WVO_QUEUE_EMPTY: { message: 'No ready task' },
  WVO_EXEC_NOT_ALLOWED: { message: 'The program is not on the allow-list' },
  WVO_EXEC_ARG_REJECTED: { message: 'An argument is not allowed' },
  WVO_EXEC_SHELL_METACHAR: { message: 'An argument contains a shell metacharacter' },
  WVO_EXEC_PATH_TRAVERSAL: { message: 'An argument contains ..' },
  WVO_EXEC_SANDBOX_DENIED: { message: 'The program is not sandbox-safe' },
  WVO_EXEC_SPAWN_FAILED: { message: 'The program could not be started' },
  WVO_STATE_ROOT_UNWRITABLE: { message: 'The state root cannot be written' },
  WVO_DB_OPEN_FAILED: { message: 'orchestrator.db could not be opened' },
  WVO_DB_CLOSED: { message: 'The database is closed' },
  WVO_SCHEMA_TOO_NEW: { message: 'The database schema is newer than this worker' },
  WVO_SCHEMA_BEHIND: { message: 'The database schema is older than expected' },
  WVO_MIGRATION_FAILED: { message: 'A migration failed' },
  WVO_SHADOW_SUMMARY_INVALID: { message: 'upgrade_shadow.json is malformed' },
  WVO_WORKER_OPTIONS_INVALID: { message: 'A worker option is invalid' },
  WVO_WORKER_MODE_CONFLICT: { message: 'Dry-run and sandbox were both set', exitCode: 2 },
  WVO_REPLAY_NOT_SANDBOX: { message: 'Only a sandbox lane honours replay', status: 409 },
  WVO_REPLAY_INVALID: { message: 'The replay meta is invalid', status: 400 },
  WVO_REPLAY_OUT_OF_ORDER: { message: "The replayed entry is not this fork's next one", status: 409 },
  WVO_JOURNAL_PARAM_INVALID: { message: 'A journal query or floor is invalid', status: 400 },
  WVO_JOURNAL_AFTER_HEAD: { message: "`after` is beyond the journal's last entry", status: 409 },
  WVO_JOURNAL_PRUNED: { message: 'The entries after `after` were pruned', status: 410 },
  WVO_JOURNAL_UNAVAILABLE: { message: 'The journal is closed', status: 503 },
} satisfies Record<WorkerErrorCode, ErrorSpec>);

/** Codes of the flag admin endpoint (admin-flags.ts answers them; docs/errors.md `## Deploy`). */
export const workerAdminErrors = defineErrors('worker', {
  WVO_ADMIN_DISABLED: { message: 'The flag endpoint is off (no WVO_ADMIN_TOKEN)', status: 404 },
  WVO_ADMIN_UNAUTHORIZED: { message: 'Missing or wrong bearer token', status: 401 },
  WVO_ADMIN_DRY_RUN: { message: 'A DRY_RUN lane refuses writes', status: 409 },
  WVO_ADMIN_FLAG_INVALID: { message: 'Unknown flag or value', status: 400 },
  WVO_ADMIN_UNAVAILABLE: { message: 'The worker cannot write', status: 503 },
});

/** A WvoError whose code is one of the worker's; `subject` names the offending field or input. */
export class WorkerError extends WvoError {
  declare readonly code: WorkerErrorCode;
  constructor(code: WorkerErrorCode, message: string, options: CatalogueErrorOptions = {}) {
    super(code, message, workerErrors.options(code, options));
    this.name = 'WorkerError';
  }
}
