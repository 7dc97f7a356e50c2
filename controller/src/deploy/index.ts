/** The deploy room (DESIGN §5): the promotion executor and the operations the CLI and the API call. */
export { LiveEffectRunner, type LiveEffectRunnerOptions, type SwitchRecord } from './live-effect-runner.js';
export { DeployOperations, type BegunDeployment, type DeployOperationsDeps, type DeployStatus } from './deploy-operations.js';
export { openDeploy, wireDeploy, WORKER_TOKEN_ENV, type DeployContext, type DeployWiring } from './deploy-context.js';
export { recordHarnessRun } from './harness-record.js';
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
