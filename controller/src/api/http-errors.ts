import { WvoError, isWvoError, toErrorJson } from '../../../common/src/errors.js';
import { apiErrors } from './errors.js';
import { routeHint, type RouteEntry } from './route-list.js';

/**
 * Pure: the HTTP status an error is answered with. A WvoError carries its room catalogue's status
 * (api/errors.ts, operations/errors.ts, ...); anything else is a 500.
 */
export function httpStatusFor(error: unknown): number {
  return isWvoError(error) ? error.status : 500;
}

/** The JSON body of every error answer: `{ok:false, error:{code, message, subject?, hint?, details?}}`. */
export function errorBody(error: unknown): { ok: false; error: Record<string, unknown> } {
  return { ok: false, error: toErrorJson(error) };
}

export function unauthorized(): WvoError {
  return apiErrors.create('WVO_UNAUTHORIZED', 'missing or wrong bearer token', {
    hint: 'send Authorization: Bearer <token> with the controller token (--token-file / WVO_CONTROLLER_TOKEN of `wvo serve`)',
  });
}

/** `routes`: what the server registered (route-list.ts), named in the hint. */
export function notFound(method: string, url: string, routes: readonly RouteEntry[]): WvoError {
  return apiErrors.create('WVO_API_NOT_FOUND', `no route ${method} ${url.split('?')[0]}`, {
    subject: url.split('?')[0],
    hint: routeHint(routes),
  });
}
