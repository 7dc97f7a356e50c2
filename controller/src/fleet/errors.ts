import { defineErrors } from '../../../common/src/error-catalogue.js';

/**
 * Codes of fleet promotions (docs/errors.md `## Fleet`). Every refusal of bad input is thrown
 * before a fleet record exists or any deployment is touched: nothing started.
 */
export const fleetErrors = defineErrors('fleet', {
  WVO_FLEET_EMPTY: { message: 'No fleet deployments are configured', status: 400, exitCode: 2 },
  WVO_FLEET_WAVE_INVALID: { message: 'A wave setting is invalid', status: 400, exitCode: 2 },
  WVO_FLEET_OPTION_INVALID: { message: 'A fleet promotion option is invalid', status: 400, exitCode: 2 },
  WVO_FLEET_DEPLOYMENT_DUPLICATE: { message: 'Two fleet deployments share a name or app', status: 400, exitCode: 2 },
  WVO_FLEET_STATE_SHARED: { message: 'Two fleet deployments claim the same state', status: 400, exitCode: 2 },
  WVO_FLEET_HOST_UNKNOWN: { message: 'A fleet deployment names an unknown host or node', status: 400, exitCode: 2 },
  WVO_FLEET_NOT_SERVING: { message: "A deployment's proxy routes to no lane", status: 409 },
  WVO_FLEET_IN_PROGRESS: { message: 'Another fleet promotion is running', status: 409 },
  WVO_FLEET_NOT_FOUND: { message: 'No such fleet promotion', status: 404 },
  WVO_FLEET_OWNED: { message: 'A live controller drives the fleet promotion', status: 409 },
  WVO_FLEET_SHADOW_FAILED: { message: "A deployment's own shadow run did not pass: not promoted", status: 409 },
  WVO_FLEET_DB_NEWER: { message: "controller.db's fleet tables were migrated by a newer wvo" },
});
