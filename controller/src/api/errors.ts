import { defineErrors } from '../../../common/src/error-catalogue.js';

/**
 * Codes `wvo serve` and its client raise themselves (docs/errors.md `## Controller API`); the
 * operations behind the routes declare theirs in operations/errors.ts.
 */
export const apiErrors = defineErrors('api', {
  WVO_UNAUTHORIZED: { message: 'Missing or wrong bearer token', status: 401 },
  WVO_API_NOT_FOUND: { message: 'No such route', status: 404 },
  WVO_STATUS_REPORT_MISSING: { message: 'No shadow report to show', status: 404 },
  WVO_API_BODY_TOO_LARGE: { message: 'The request body is over the limit', status: 413 },
  WVO_CONTROLLER_TOKEN_MISSING: { message: 'No controller token', exitCode: 2 },
  WVO_CONTROLLER_INSECURE_NOT_LOOPBACK: { message: '--insecure-no-token is only allowed on loopback', exitCode: 2 },
  WVO_CONTROLLER_ADDRESS_INVALID: { message: '--listen is not host:port', exitCode: 2 },
  WVO_CONTROLLER_UNREACHABLE: { message: 'The controller API did not answer' },
});
