import { WvoError } from '../../../common/src/errors.js';
import type { DeploymentRecord, PromotionOptions } from '../promotion/index.js';
import { operationsErrors } from './errors.js';

/**
 * What promote/rollback answer: the deployment as persisted when the request was accepted, and
 * (when the work goes on in the background) `done`, settling when it is promoted or rolled back.
 */
export interface PromotionAccepted {
  deployment: DeploymentRecord;
  done?: Promise<DeploymentRecord>;
}

/**
 * The seam the controller API calls for `POST /deployments/:id/promote|rollback`; the CLI's
 * `wvo promote` / `wvo rollback` call the same functions with the same options type.
 * Refusals (no staged upgrade, tests skipped, one promotion at a time, …) must be thrown before
 * anything changes, as coded WvoErrors.
 */
export interface PromotionFunctions {
  promote(options: PromotionOptions): Promise<PromotionAccepted>;
  rollback(request: { id: string; reason: string }): Promise<PromotionAccepted>;
  /** `wvo resume <id>` (refused with WVO_DEPLOYMENT_OWNED while its driver lives); the server's auto-resume calls it. */
  resume?(id: string): Promise<DeploymentRecord | undefined>;
  /** Stop/remove old lanes whose keep-warm or retention window ended unattended; the server's ticks call it. */
  housekeeping?(): Promise<void>;
}

/** Until the promotion executor is wired: every call is refused with a coded error, nothing changes. */
export const unavailablePromotion: PromotionFunctions = {
  promote: () => Promise.reject(unavailable()),
  rollback: () => Promise.reject(unavailable()),
};

/** WVO_PROMOTION_UNAVAILABLE: nothing changes. */
export function unavailable(): WvoError {
  return operationsErrors.create('WVO_PROMOTION_UNAVAILABLE', 'this controller has no promotion executor wired', {
    hint: 'start the controller with a promotion executor (EffectRunner: lanes runtime + proxy admin client)',
  });
}
