import { defineErrors, type CatalogueErrorOptions } from '../../../common/src/error-catalogue.js';
import { WvoError } from '../../../common/src/errors.js';

/**
 * Every error the proxy raises, by stable code (documented in docs/errors.md under `## Proxy`).
 * `status` is what the admin API answers when the error reaches it.
 */
export const PROXY_ERRORS = {
  WVO_PROXY_LANE_UNKNOWN: { status: 404, message: 'No lane with that name is registered' },
  WVO_PROXY_LANE_UNHEALTHY: { status: 409, message: 'The lane is not healthy; switching to it is refused' },
  WVO_PROXY_LANE_INVALID: { status: 400, message: 'Lane name or URL is invalid' },
  WVO_PROXY_LANE_ACTIVE: { status: 409, message: 'The operation is not allowed on the active lane' },
  WVO_PROXY_WEIGHT_INVALID: { status: 400, message: 'The canary weight must be a number from 0 to 100' },
  WVO_PROXY_NO_ACTIVE_LANE: { status: 503, message: 'No active lane is set' },
  WVO_PROXY_UNAUTHORIZED: { status: 401, message: 'Missing or wrong bearer token' },
  WVO_PROXY_BAD_REQUEST: { status: 400, message: 'The admin request body is invalid' },
  WVO_PROXY_TOKEN_MISSING: { status: 500, message: 'No admin token configured' },
  WVO_PROXY_ADMIN_NOT_LOOPBACK: { status: 500, message: 'The admin API must listen on loopback or a unix socket' },
  WVO_PROXY_ADDRESS_INVALID: { status: 400, message: 'Listen address is invalid' },
  WVO_PROXY_HEALTH_INVALID: { status: 400, message: 'A lane health spec is invalid' },
  WVO_PROXY_OPTION_INVALID: { status: 400, message: 'A proxy option is invalid' },
  WVO_PROXY_STATE_INVALID: { status: 500, message: 'The route table file is unreadable or invalid' },
  WVO_PROXY_STATE_WRITE_FAILED: { status: 500, message: 'The route table could not be written' },
  WVO_PROXY_SESSION_MOVE_FAILED: { status: 502, message: 'Re-initializing a session on the active lane failed' },
  WVO_PROXY_SESSION_EXPIRED: { status: 404, message: 'The session was on a lane that no longer serves it' },
  WVO_PROXY_UPSTREAM_UNREACHABLE: { status: 502, message: 'The lane did not accept the connection' },
  WVO_PROXY_UPSTREAM_TIMEOUT: { status: 504, message: 'The lane did not answer in time' },
  WVO_PROXY_BODY_TOO_LARGE: { status: 413, message: 'The request body exceeds the proxy limit' },
  WVO_PROXY_ADMIN_UNREACHABLE: { status: 502, message: 'The proxy admin API did not answer' },
  WVO_PROXY_ADMIN_FAILED: { status: 500, message: 'The proxy admin API answered with an error' },
} as const;

export type ProxyErrorCode = keyof typeof PROXY_ERRORS;

/** PROXY_ERRORS as the proxy room's catalogue (registered, so the documentation test sees it). */
export const proxyErrors = defineErrors('proxy', PROXY_ERRORS);

export class ProxyError extends WvoError {
  constructor(code: ProxyErrorCode, message: string = PROXY_ERRORS[code].message, options: CatalogueErrorOptions = {}) {
    super(code, message, proxyErrors.options(code, options));
    this.name = 'ProxyError';
  }
}

/** Rebuild a coded error from an admin API JSON body (so callers can switch on `.code`). */
export function proxyErrorFromJson(status: number, body: unknown): WvoError {
  const error = (body as { error?: { code?: string; message?: string; subject?: string; hint?: string } } | null)?.error;
  const code = error?.code;
  if (code && code in PROXY_ERRORS) {
    return new ProxyError(code as ProxyErrorCode, error.message, {
      ...(error.subject ? { subject: error.subject } : {}),
      ...(error.hint ? { hint: error.hint } : {}),
      details: { status },
    });
  }
  return new ProxyError('WVO_PROXY_ADMIN_FAILED', error?.message ?? `admin API answered ${status}`, { details: { status } });
}
