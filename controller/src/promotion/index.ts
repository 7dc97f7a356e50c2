/** The promotion room's public surface (DESIGN §5). Nothing else reaches into this folder. */
export {
  DEPLOYMENT_STATES,
  FORWARD_PATH,
  LEGAL_TRANSITIONS,
  OBSERVED_STATES,
  RUNNING_STATES,
  SETTLED_STATES,
  isLegalTransition,
  isObserved,
  isRunning,
  isSettled,
  type DeploymentState,
} from './states.js';
export { formatDuration, parseDuration } from './duration.js';
export { LEASE_TTL_MS, judgeLease, leaseOwnedError, type Lease, type LeaseHolder, type LeaseJudgement } from './lease.js';
export { EFFECT_KINDS, describeEffect, type Effect, type EffectKind } from './effects.js';
export { EVENT_TYPES, type EventType, type PromotionEvent } from './events.js';
export {
  DEFAULT_KEEP_WARM_MS,
  FLAG_NAMES,
  PLAN_STEP_KINDS,
  RESUME_OBSERVING,
  buildPromotionPlan,
  parsePromotionOptions,
  promotionOptionsSchema,
  promotionPlanSchema,
  upgradeSummarySchema,
  type FlagChange,
  type FlagName,
  type LaneRef,
  type PlanStep,
  type PromotionOptions,
  type PromotionOptionsInput,
  type PromotionPlan,
  type UpgradeSummary,
} from './plan.js';
export {
  deploymentRecordSchema,
  newDeploymentRecord,
  type DeploymentRecord,
  type Observation,
} from './deployment.js';
export {
  RESUME_ACTIONS,
  resumeDecision,
  rollbackEffects,
  transition,
  type ResumeAction,
  type ResumeDecision,
  type TransitionEntry,
  type TransitionResult,
} from './state-machine.js';
export {
  CHECK_STATUS,
  DEFAULT_GATE_THRESHOLDS,
  FAILURE_MODES,
  GATE_NAMES,
  evaluateGates,
  failureDecision,
  gateThresholdsSchema,
  readWorkerSignals,
  type CheckCounts,
  type FailureMode,
  type GateCheck,
  type GateName,
  type GateResult,
  type GateThresholds,
  type LaneFigures,
  type MetricsSnapshot,
  type WorkerSignals,
} from './gates.js';
export {
  bucketIncrease,
  counterIncrease,
  histogramBuckets,
  parsePromText,
  quantileFromBuckets,
  sumSeries,
  type Bucket,
  type LabelFilter,
  type PromSample,
} from './parse-prom.js';
export { CONTROLLER_DB_FILE, DeploymentStore, type TransitionRow } from './deployment-store.js';
export { migrateRoom, openControllerDb, type RoomMigration } from './controller-db.js';
export { performEffect, type EffectRunner } from './effect-runner.js';
export { artifactWriters } from './artifact-writers.js';
export { Reconciler, type ReconcilerOptions } from './reconciler.js';
export {
  PROMOTION_OUTCOMES,
  buildPromotionPlanFile,
  outcomeOf,
  promotionPlanFileSchema,
  promotionPlanPath,
  readPromotionPlanFile,
  writePromotionPlanFile,
  type PromotionOutcome,
  type PromotionPlanFile,
} from './promotion-plan-file.js';
export { workerManagerView } from './worker-manager-view.js';
// Comparative analysis (candidate vs baseline under the same traffic): pure, one concept per file.
export { ANALYSIS_ERRORS } from './analysis/errors.js';
export {
  CRITICALITIES,
  DEFAULT_ANALYSIS_CONFIG,
  METRIC_NAMES,
  analysisConfigSchema,
  parseAnalysisConfig,
  type AnalysisConfig,
  type AnalysisConfigInput,
  type Criticality,
  type MetricName,
} from './analysis/config.js';
export { distributionFromBuckets, distributionFromValues, quantile, sampleSize, type Distribution } from './analysis/distribution.js';
export { ALTERNATIVES, mannWhitneyU, type Alternative, type MannWhitneyResult } from './analysis/mann-whitney.js';
export { compareProportions, fisherGreater, type Counts, type ProportionTest } from './analysis/proportions.js';
export { normalCdf, normalSf } from './analysis/normal.js';
export { PROBE_LANES, type IntervalInput, type LaneSample, type ProbeLane, type ProbeResult, type ToolSample, type WorkerMeasures } from './analysis/samples.js';
export { CHECK_VERDICTS, type CheckVerdict, type MetricCheck } from './analysis/checks.js';
export { ANALYSIS_VERDICTS, judgeInterval, type AnalysisVerdict, type IntervalAnalysis } from './analysis/judge.js';
export { PROXY_SERIES, laneSampleFromScrapes, type ProxySeriesNames } from './analysis/prom-input.js';
// Weighted canary steps, semantic probes and the per-interval judgement (issue 12).
export { promotionErrors } from './errors.js';
export { FULL_WEIGHT, parseCanarySteps, weightedSteps } from './canary-steps.js';
export { JSON_TYPES, judgeProbe, parseProbes, probeExpectationSchema, probeSchema, type Probe, type ProbeAnswer, type ProbeExpectation } from './probes.js';
export { COMPARISONS, MAX_INTERVAL_RECORDS, intervalRecordSchema, type Comparison, type IntervalRecord } from './interval-record.js';
export { judgeObservedInterval, type BaselineReference, type IntervalJudgement, type ObservedInterval } from './interval-judge.js';
export { LANE_STATUS, workerManagerFileSchema, workerManagerPath, writeWorkerManagerFile, readWorkerManagerFile, type LaneStatus, type WorkerManagerFile } from './worker-manager-file.js';
