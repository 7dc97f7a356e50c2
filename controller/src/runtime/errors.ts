import { WvoError, type WvoErrorOptions } from '../../../common/src/errors.js';

/**
 * Runtime error codes, one place (docs/errors.md "Runtime and images"). Each constructor names the
 * offending input as `subject` and says what to do next.
 */
export const RUNTIME_ERROR_CODES = [
  'WVO_IMAGE_NOT_FOUND',
  'WVO_IMAGE_BUILD_FAILED',
  'WVO_ENGINE_UNREACHABLE',
  'WVO_LANE_EXITED',
  'WVO_LANE_NOT_READY',
  'WVO_LANE_NOT_FOUND',
  'WVO_LANE_NAME_TAKEN',
  'WVO_LANE_NAME_INVALID',
  'WVO_LANE_SPEC_INVALID',
  'WVO_STATE_DIR_MISSING',
  'WVO_STATE_DIR_NOT_WRITABLE',
  'WVO_HOST_URL_INVALID',
  'WVO_HOST_UNKNOWN',
  'WVO_TRANSFER_FAILED',
  'WVO_RUNTIME_UNAVAILABLE',
  'WVO_BASE_IMAGE_FAILED',
  'WVO_ENGINE_AUTH_FAILED',
  'WVO_ENGINE_UNTRUSTED',
  'WVO_HOST_CREDENTIAL_UNREADABLE',
  'WVO_STATE_VERIFY_FAILED',
  'WVO_STATE_REMOTE_EXISTS',
  'WVO_REMOTE_PATH_INVALID',
  'WVO_SWARM_NOT_INITIALISED',
  'WVO_SWARM_NODE_UNKNOWN',
] as const;
export type RuntimeErrorCode = (typeof RUNTIME_ERROR_CODES)[number];

export class RuntimeError extends WvoError {
  constructor(code: RuntimeErrorCode, message: string, options: WvoErrorOptions = {}) {
    super(code, message, options);
    this.name = 'RuntimeError';
  }
}

/** Last lines of a log, indented, for an error message. */
export function logExcerpt(logs: string, lines = 20): string {
  const tail = logs.trimEnd().split('\n').slice(-lines);
  return tail.length === 0 || (tail.length === 1 && tail[0] === '') ? '  (no output)' : tail.map((l) => `  | ${l}`).join('\n');
}

export function laneNotFound(name: string, scope: string): RuntimeError {
  return new RuntimeError('WVO_LANE_NOT_FOUND', `no lane named "${name}" in ${scope}`, {
    subject: name,
    hint: 'List lanes with `wvo lanes`.',
  });
}
