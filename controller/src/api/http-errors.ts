import { WvoError, isWvoError, toErrorJson } from '../../../common/src/errors.js';

/** Codes the API itself raises (the rest come from the operations it calls). */
export const API_ERROR_CODES = [
  'WVO_UNAUTHORIZED',
  'WVO_API_NOT_FOUND',
  'WVO_API_BAD_REQUEST',
  'WVO_API_BODY_TOO_LARGE',
  'WVO_UPGRADE_NOT_FOUND',
  'WVO_PROMOTION_UNAVAILABLE',
  'WVO_CONTROLLER_TOKEN_MISSING',
  'WVO_CONTROLLER_INSECURE_NOT_LOOPBACK',
  'WVO_CONTROLLER_ADDRESS_INVALID',
  'WVO_CONTROLLER_UNREACHABLE',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** HTTP status per error code; anything not listed is a 500 (WvoError) or an internal error. */
const STATUS: Record<string, number> = {
  WVO_UNAUTHORIZED: 401,
  WVO_API_NOT_FOUND: 404,
  WVO_API_BAD_REQUEST: 400,
  WVO_API_BODY_TOO_LARGE: 413,
  WVO_OPTIONS_INVALID: 400,
  WVO_INVALID_PROMOTION_OPTION: 400,
  WVO_INVALID_DURATION: 400,
  WVO_SUITE_INVALID: 400,
  WVO_UPGRADE_NOT_FOUND: 404,
  WVO_DEPLOYMENT_NOT_FOUND: 404,
  WVO_NO_STAGED_UPGRADE: 404,
  WVO_LOCK_HELD: 409,
  WVO_LOCK_STALE: 409,
  WVO_PROMOTION_IN_PROGRESS: 409,
  WVO_DEPLOYMENT_CONFLICT: 409,
  WVO_ILLEGAL_TRANSITION: 409,
  WVO_NOTHING_TO_ROLL_BACK: 409,
  WVO_TESTS_SKIPPED: 409,
  WVO_CONTRACT_MIGRATION: 409,
  WVO_UPGRADE_FAILED: 409,
  WVO_RETENTION_EXPIRED: 409,
  WVO_ROLLBACK_SUPERSEDED: 409,
  WVO_PROMOTION_UNAVAILABLE: 501,
};

/** Pure: the HTTP status an error is answered with. */
export function httpStatusFor(error: unknown): number {
  if (isWvoError(error)) return STATUS[error.code] ?? 500;
  return 500;
}

/** The JSON body of every error answer: `{ok:false, error:{code, message, subject?, hint?, details?}}`. */
export function errorBody(error: unknown): { ok: false; error: Record<string, unknown> } {
  return { ok: false, error: toErrorJson(error) };
}

export function unauthorized(): WvoError {
  return new WvoError('WVO_UNAUTHORIZED', 'missing or wrong bearer token', {
    hint: 'send Authorization: Bearer <token> with the controller token (--token-file / WVO_CONTROLLER_TOKEN of `wvo serve`)',
  });
}

export function notFound(method: string, url: string): WvoError {
  return new WvoError('WVO_API_NOT_FOUND', `no route ${method} ${url.split('?')[0]}`, {
    subject: url.split('?')[0],
    hint: 'routes: /healthz /metrics /status /lanes /upgrades /upgrades/:id /deployments /deployments/:id[/promote|/rollback] /events',
  });
}
