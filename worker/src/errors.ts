import { WvoError, type WvoErrorOptions } from '../../common/src/errors.js';

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

/** A WvoError whose code is one of the worker's; `subject` names the offending field or input. */
export class WorkerError extends WvoError {
  declare readonly code: WorkerErrorCode;
  constructor(code: WorkerErrorCode, message: string, options: WvoErrorOptions = {}) {
    super(code, message, options);
    this.name = 'WorkerError';
  }
}
