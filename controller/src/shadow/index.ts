/**
 * The shadow room: suite files, the MCP suite runner, normaliser, structural differ, noise model,
 * persisted results and the HTML report. The harness calls `runShadow`, then writes the artifacts.
 */
export { findArgumentRefs, isArgumentRef, resolveArgumentRefs, type ArgumentRef } from './argument-refs.js';
export { runShadow, appendFreshPass, compareSuiteRun, extraReplicaNames, FRESH_PASS_PREFIX, type RunShadowOptions, type CompareOptions, type ShadowProgress } from './compare.js';
export { COVERAGE_OUTCOMES, CoverageSchema, EXECUTOR_NOT_RECORDED, coverageOf, errorCode, type Coverage, type CoverageCall } from './coverage.js';
export { defaultSuite, DEFAULT_SUITE_SOURCE } from './default-suite.js';
export { diffJson, jsonEqual, DIFF_KINDS, type Diff, type DiffKind } from './differ.js';
export { formatJsonPath, parseJsonPath, selectPaths, type PathKey, type PathSegment } from './json-path.js';
export { GROUP_KINDS, ShadowGroupSchema, groupDiffs, groupPath, type GroupKind, type GroupableDiff, type ShadowGroup } from './grouping.js';
export {
  classify,
  isReported,
  learnNoise,
  REPORTED_VERDICTS,
  VERDICTS,
  type Classification,
  type NoiseIndex,
  type Verdict,
} from './noise-model.js';
export { IGNORED, normalise } from './normalise.js';
export { REPORT_HTML, renderReportHtml, summaryText, writeReportHtml, escapeHtml, type ReportOptions, type ReportStep } from './report-html.js';
export {
  IS_ERROR_PATH,
  LANES,
  NoiseModelSchema,
  SHADOW_JSON,
  SHADOW_LANE_MODES,
  SHADOW_PASSES,
  ShadowResultSchema,
  ShadowResultV1Schema,
  shadowTotals,
  upgradeShadowResult,
  withStateDiff,
  UPGRADE_SHADOW_FILE,
  UpgradeShadowSummarySchema,
  readShadowJson,
  readUpgradeShadowSummary,
  writeShadowJson,
  writeUpgradeShadowSummary,
  type Lane,
  type NoiseModel,
  type ShadowCall,
  type ShadowDiff,
  type ShadowPass,
  type ShadowResult,
  type ShadowResultV1,
  type UpgradeShadowSummary,
  type WriteUpgradeShadowOptions,
} from './shadow-result.js';
export {
  DEFAULT_READ_ONLY_REPEATS,
  SUITE_FORMATS,
  SuiteSchema,
  callLabel,
  checkSuiteTools,
  loadSuite,
  parseSuite,
  validateSuite,
  type Suite,
  type SuiteCall,
  type SuiteFormat,
  type SuiteInput,
} from './suite.js';
export {
  LaneClient,
  mcpEndpoint,
  runSuite,
  type CallOutcome,
  type RunSuiteOptions,
  type SuiteProgress,
  type SuiteRun,
} from './suite-runner.js';
export {
  DEFAULT_THRESHOLDS,
  ThresholdsSchema,
  resolveThresholds,
  type PartialThresholds,
  type Thresholds,
} from './thresholds.js';
export { parseToolResult } from '../../../common/src/mcp-client.js';
export { compareSurfaces } from './tool-surface.js';
export { shadowErrors } from './errors.js';
export { fetchToolSurface, type FetchSurfaceOptions } from './tool-surface-fetch.js';
export { CHANGE_CATEGORIES, SurfaceReportSchema, type RawSurface, type SurfaceChange, type SurfaceReport } from './tool-surface-types.js';
export { defaultAppSuite, selectSafeCalls, SkippedCallSchema, type SkippedCall, type SafetyPolicy } from './safe-calls.js';
