/**
 * The shadow room: suite files, the MCP suite runner, normaliser, structural differ, noise model,
 * persisted results and the HTML report. The harness calls `runShadow`, then writes the artifacts.
 */
export { findArgumentRefs, isArgumentRef, resolveArgumentRefs, type ArgumentRef } from './argument-refs.js';
export { runShadow, compareSuiteRun, type RunShadowOptions, type CompareOptions, type ShadowProgress } from './compare.js';
export { defaultSuite, DEFAULT_SUITE_SOURCE } from './default-suite.js';
export { diffJson, jsonEqual, DIFF_KINDS, type Diff, type DiffKind } from './differ.js';
export { formatJsonPath, parseJsonPath, type PathKey } from './json-path.js';
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
export { REPORT_HTML, renderReportHtml, writeReportHtml, escapeHtml, type ReportOptions, type ReportStep } from './report-html.js';
export {
  IS_ERROR_PATH,
  LANES,
  SHADOW_JSON,
  ShadowResultSchema,
  UPGRADE_SHADOW_FILE,
  UpgradeShadowSummarySchema,
  readShadowJson,
  readUpgradeShadowSummary,
  writeShadowJson,
  writeUpgradeShadowSummary,
  type Lane,
  type ShadowCall,
  type ShadowDiff,
  type ShadowResult,
  type UpgradeShadowSummary,
  type WriteUpgradeShadowOptions,
} from './shadow-result.js';
export {
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
