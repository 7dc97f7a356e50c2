/**
 * The operations room (DESIGN §5, issue 9): every control-plane operation, once. The CLI, the
 * controller API and the demo only parse input, call one of these and render the result.
 *
 * Why one room (it was deploy/ plus loops in api/): "upgrade → record → maybe promote" was
 * written in three places, promote's start → drive in three, and deploy/ took its interface from
 * api/. Here: upgrade (run → record → maybe promote), record, promote, rollback, resume, status,
 * housekeeping, the reconcile loop, the upgrade runner, the deployment watcher, and the
 * ControlPlane that gives each command one proxy admin client and one controller.db connection.
 * This room never imports from api/; api/ imports from here.
 */
export { ControlPlane, openDeploy, wireDeploy, WORKER_TOKEN_ENV, type ControlPlaneInput, type DeployContext, type DeployWiring } from './control-plane.js';
export { assertSurfaceGate, upgrade, type UpgradeOutcome, type UpgradePlane, type UpgradeRequest } from './upgrade.js';
export { resolveUpgradeApp } from './upgrade-app.js';
export { recordHarnessRun } from './harness-record.js';
export { shadowDiffStreak } from './shadow-streak.js';
export { DeployOperations, type BegunDeployment, type DeployOperationsDeps, type DeployStatus, type ProxyLanes } from './deploy-operations.js';
export { LiveEffectRunner, type LiveEffectRunnerOptions, type SwitchRecord } from './live-effect-runner.js';
export { connectProxyAdmin, adminUrl, PROXY_TOKEN_ENV } from './proxy-connection.js';
export {
  parseResumeOptions,
  parseRollbackOptions,
  resumeOptionsSchema,
  rollbackOptionsSchema,
  type ResumeOptions,
  type RollbackOptions,
} from './deploy-options.js';
export { chooseLanes, pairedLane, upgradeSummaryFromResult } from './upgrade-record.js';
export { progressLine, progressLogger } from './progress-logger.js';
export { putWorkerFlag, type FlagWriteResult } from './worker-flags-client.js';
export { readOrchestratorStatus } from './lane-status.js';
export { ACTIVE_SOURCES, resolveActiveLane, type ActiveLane, type ActiveSource } from './active-lane.js';
export { collectStatus, deploymentStep, type ControllerStatus, type StatusSources } from './status.js';
export { PAGE_INTERVALS, collectStatusPage, deploymentPageView, shadowReportFile, type StatusPageData, type StatusPageSources } from './status-page-data.js';
export { unavailablePromotion, type PromotionAccepted, type PromotionFunctions } from './promotion-functions.js';
export { openController, type Controller, type ControllerContext, type ControllerLoopOptions } from './controller.js';
export { controllerContextFromConfig } from './controller-context.js';
export {
  createControllerOperations,
  type ControllerOperations,
  type DeploymentView,
  type OperationsDeps,
  type TransitionView,
  type UpgradeView,
} from './controller-operations.js';
export { CONTROLLER_EVENT_TYPES, EventBus, type ControllerEvent, type ControllerEventType } from './event-bus.js';
export { UpgradeRunner, type RunningUpgrade, type UpgradeRunnerDeps } from './upgrade-runner.js';
export { ReconcileLoop, type ReconcileLoopOptions } from './reconcile-loop.js';
export { DeploymentWatcher } from './deployment-watcher.js';
export { operationsErrors } from './errors.js';
export { openSoak, type SoakWiringInput } from './soak-wiring.js';
export { SoakDriver } from './soak-driver.js';
