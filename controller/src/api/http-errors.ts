import { WvoError, isWvoError, toErrorJson } from '../../../common/src/errors.js';
import { apiErrors } from './errors.js';

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

export function notFound(method: string, url: string): WvoError {
  return apiErrors.create('WVO_API_NOT_FOUND', `no route ${method} ${url.split('?')[0]}`, {
    subject: url.split('?')[0],
    hint: 'routes: /healthz /metrics /status /lanes /upgrades /upgrades/:id /deployments /deployments/:id[/promote|/rollback] /events; the status page /ui',
  });
}
