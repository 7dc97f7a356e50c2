import { DEFAULT_ANALYSIS_CONFIG, type AnalysisConfig, type MetricName } from './config.js';
import {
  criticFailuresCheck,
  probeChecks,
  queueDriftCheck,
  tokenPressureCheck,
  toolErrorsCheck,
  toolLatencyCheck,
  transportErrorsCheck,
  type MetricCheck,
} from './checks.js';
import { laneShift } from './lane-shift.js';
import type { IntervalInput } from './samples.js';

/**
 * The interval judge (Kayenta's judge + weighted-sum scorer, reduced): every metric is compared
 * candidate vs baseline, the checks with data are scored, and the score maps to a verdict.
 *
 * - a failed `critical` check fails the interval (score 0), with data or not elsewhere;
 * - `insufficient` checks (too few samples) are listed but not scored: not a failure, not a pass;
 * - no scored check at all — or, with `requireTraffic`, no per-tool check (latency, errors) with
 *   enough calls — makes the interval `insufficient`;
 * - otherwise score = 100 × weight of passed checks / weight of scored checks, and
 *   ≥ thresholds.pass → pass, ≥ thresholds.marginal → marginal, else fail.
 */
export const ANALYSIS_VERDICTS = ['pass', 'marginal', 'fail', 'insufficient'] as const;
export type AnalysisVerdict = (typeof ANALYSIS_VERDICTS)[number];

export interface IntervalAnalysis {
  readonly verdict: AnalysisVerdict;
  /** 0–100; null when nothing could be scored. */
  readonly score: number | null;
  readonly checks: readonly MetricCheck[];
  /** Why the verdict is what it is: failed checks (or, when insufficient, what was missing). */
  readonly reasons: readonly string[];
}

/** Per-tool evidence: without one of these judged, the candidate was not really exercised. */
const TRAFFIC_METRICS: ReadonlySet<MetricName> = new Set(['tool_latency', 'tool_errors']);

export function judgeInterval(input: IntervalInput, config: AnalysisConfig = DEFAULT_ANALYSIS_CONFIG): IntervalAnalysis {
  const m = config.metrics;
  const { candidate, baseline } = input;
  const tools = [...new Set([...Object.keys(candidate.tools), ...Object.keys(baseline.tools)])].sort();
  const shift = laneShift(candidate.tools, baseline.tools);
  const checks: MetricCheck[] = [
    ...tools.map((tool) => toolLatencyCheck(tool, candidate.tools[tool], baseline.tools[tool], m.tool_latency, shift)),
    ...tools.map((tool) => toolErrorsCheck(tool, candidate.tools[tool], baseline.tools[tool], m.tool_errors)),
    transportErrorsCheck(candidate, baseline, m.transport_errors),
    tokenPressureCheck(candidate, baseline, m.token_pressure),
    queueDriftCheck(candidate, baseline, m.queue_drift),
    criticFailuresCheck(candidate, baseline, m.critic_failures),
    ...probeChecks(input.probes ?? [], m.probes),
  ];

  const scored = checks.filter((c) => c.verdict !== 'insufficient' && c.criticality !== 'report-only');
  const failed = scored.filter((c) => c.verdict === 'fail');
  const criticalFailed = failed.filter((c) => c.criticality === 'critical');
  const weight = scored.reduce((sum, c) => sum + c.weight, 0);
  const passedWeight = scored.filter((c) => c.verdict === 'pass').reduce((sum, c) => sum + c.weight, 0);
  const ratioScore = weight > 0 ? Math.round((1000 * passedWeight) / weight) / 10 : null;

  if (criticalFailed.length > 0) return { verdict: 'fail', score: 0, checks, reasons: failed.map((c) => c.reason) };
  const trafficJudged = scored.some((c) => TRAFFIC_METRICS.has(c.metric));
  if (ratioScore === null || (config.requireTraffic && !trafficJudged)) {
    const missing = checks.filter((c) => c.verdict === 'insufficient' && (TRAFFIC_METRICS.has(c.metric) || ratioScore === null));
    return {
      verdict: 'insufficient',
      score: ratioScore,
      checks,
      reasons: [
        ...failed.map((c) => c.reason),
        ...(missing.length > 0 ? missing.map((c) => c.reason) : ['no calls reached both lanes in the interval']),
      ],
    };
  }
  const { pass, marginal } = config.thresholds;
  const verdict: AnalysisVerdict = ratioScore >= pass ? 'pass' : ratioScore >= marginal ? 'marginal' : 'fail';
  const reasons = failed.map((c) => c.reason);
  if (verdict !== 'pass') reasons.push(`score ${ratioScore} is below the pass threshold ${pass}${verdict === 'fail' ? ` and the marginal threshold ${marginal}` : ''}`);
  return { verdict, score: ratioScore, checks, reasons };
}
