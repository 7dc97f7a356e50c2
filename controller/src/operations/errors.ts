import { defineErrors } from '../../../common/src/error-catalogue.js';

/**
 * Codes of the control-plane operations (docs/errors.md `## Deploy`, `## Controller API`). The
 * API answers with these statuses; the CLI exits with these codes.
 */
export const operationsErrors = defineErrors('operations', {
  WVO_API_BAD_REQUEST: { message: 'The request does not match the operation', status: 400, exitCode: 2 },
  WVO_UPGRADE_NOT_FOUND: { message: 'No such upgrade', status: 404 },
  WVO_UPGRADE_STEPS_INVALID: { message: "An upgrade's steps.json cannot be read" },
  WVO_PROMOTION_UNAVAILABLE: { message: 'This controller has no promotion executor wired', status: 501 },
  WVO_DEPLOY_FLAG_FAILED: { message: 'Setting a flag through the lanes failed' },
  WVO_DEPLOY_LANE_UNHEALTHY: { message: 'A lane the deployment needs is not ready' },
  WVO_DEPLOY_LANE_ACTIVE: { message: 'Refusing to touch the lane the proxy routes to' },
  WVO_DEPLOY_WORKER_TOKEN_MISSING: { message: 'No worker admin token', exitCode: 2 },
  WVO_DEPLOY_BASELINE_NOT_ACTIVE: { message: "The upgrade's baseline is not the active lane" },
  WVO_DEPLOY_OPTION_INVALID: { message: 'A rollback/resume option is invalid', exitCode: 2 },
  WVO_DEPLOY_PROXY_TOKEN_MISSING: { message: 'No proxy admin token', exitCode: 2 },
  WVO_SURFACE_BREAKING: { message: 'The tool-surface gate found a breaking change; --promote refused (--allow-breaking overrides)', status: 409 },
});
