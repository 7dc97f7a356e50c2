/** The controller API room (DESIGN §1, §9): `wvo serve`, its client, and `wvo status`. */
export { startController, buildControllerApi, type ControllerApiDeps, type ControllerContext, type RunningController } from './server.js';
export {
  serveOptionsSchema,
  parseServeOptions,
  parseListen,
  isLoopbackHost,
  type ServeOptions,
  type ServeOptionsInput,
  type ListenAddress,
} from './serve-options.js';
export { TOKEN_ENV, bearerChecker, readControllerToken } from './auth.js';
export { API_ERROR_CODES, httpStatusFor, type ApiErrorCode } from './http-errors.js';
export {
  createControllerOperations,
  type ControllerOperations,
  type DeploymentView,
  type OperationsDeps,
  type TransitionView,
  type UpgradeView,
} from './operations.js';
export { reconcilerPromotion, unavailablePromotion, type PromotionAccepted, type PromotionFunctions } from './promotion-functions.js';
export { CONTROLLER_EVENT_TYPES, EventBus, type ControllerEvent, type ControllerEventType } from './event-bus.js';
export { UpgradeRunner, type RunningUpgrade, type UpgradeRunnerDeps } from './upgrade-runner.js';
export { collectStatus, deploymentStep, renderStatus, type ControllerStatus, type StatusSources } from './status.js';
export { ControllerClient, ControllerApiError, type ControllerClientOptions } from './client.js';
