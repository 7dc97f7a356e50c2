import { z } from 'zod';
import { ANALYSIS_ERRORS } from './errors.js';

/**
 * What the interval judge compares and how strictly (Kayenta's canary config, reduced): each
 * metric has a criticality (a failed `critical` metric fails the interval outright, `normal`
 * lowers the score, `report-only` is shown but not scored), a minimum sample size per lane, and
 * the effect it tolerates. Scores at or above `thresholds.pass` pass, at or above
 * `thresholds.marginal` are marginal, below fail (Kayenta's defaults: 75 / 50).
 */
export const METRIC_NAMES = ['tool_latency', 'tool_errors', 'transport_errors', 'token_pressure', 'queue_drift', 'critic_failures', 'probes'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export const CRITICALITIES = ['critical', 'normal', 'report-only'] as const;
export type Criticality = (typeof CRITICALITIES)[number];

const base = (criticality: Criticality) => ({
  criticality: z.enum(CRITICALITIES).default(criticality),
  /** Share of the score (critical and normal metrics). */
  weight: z.number().positive().default(1),
});
const alpha = z.number().gt(0).lt(1).default(0.01);

export const analysisConfigSchema = z
  .object({
    thresholds: z
      .object({ pass: z.number().min(0).max(100).default(75), marginal: z.number().min(0).max(100).default(50) })
      .strict()
      .prefault({}),
    /** With no per-tool metric judged (too few calls on either lane), the interval is `insufficient` even if other measures pass. */
    requireTraffic: z.boolean().default(true),
    metrics: z
      .object({
        /** Per tool: rank test on latency (candidate slower) and the ratio of medians. */
        tool_latency: z
          .object({
            ...base('critical'),
            minSamples: z.number().int().min(1).default(20),
            alpha,
            /** Fail only when candidate median / baseline median exceeds this… */
            maxRatio: z.number().min(1).default(1.5),
            /** …and the medians differ by more than this many milliseconds (noise floor on busy cores). */
            minDeltaMs: z.number().min(0).default(2),
          })
          .strict()
          .prefault({}),
        /** Per tool: share of calls that failed (HTTP error, JSON-RPC error, or result.isError). */
        tool_errors: z
          .object({ ...base('critical'), minSamples: z.number().int().min(1).default(20), alpha, maxIncrease: z.number().min(0).max(1).default(0.05) })
          .strict()
          .prefault({}),
        /** Per lane: requests answered 5xx or not at all, out of all requests. */
        transport_errors: z
          .object({ ...base('critical'), minSamples: z.number().int().min(1).default(20), alpha, maxIncrease: z.number().min(0).max(1).default(0.01) })
          .strict()
          .prefault({}),
        /** Candidate token pressure (0..1) minus the baseline's. */
        token_pressure: z.object({ ...base('normal'), maxIncrease: z.number().min(0).max(1).default(0.2) }).strict().prefault({}),
        /** Largest |candidate − baseline| of any queue count (both lanes read the same live state). */
        queue_drift: z.object({ ...base('normal'), maxDrift: z.number().min(0).default(5) }).strict().prefault({}),
        /** Critic failures new on the candidate in the interval, minus the baseline's. */
        critic_failures: z.object({ ...base('normal'), maxIncrease: z.number().min(0).default(0) }).strict().prefault({}),
        /** Semantic probes: each failed on the candidate is a failed check with the probe's name. */
        probes: z.object({ ...base('critical') }).strict().prefault({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type AnalysisConfig = z.infer<typeof analysisConfigSchema>;
export type AnalysisConfigInput = z.input<typeof analysisConfigSchema>;

/** Validate an analysis config; the error's subject is the offending path (`metrics.latency_p99`, `thresholds.marginal`). */
export function parseAnalysisConfig(input: unknown = {}): AnalysisConfig {
  const result = analysisConfigSchema.safeParse(input ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0]!;
      const subject = path ? `${path}.${key}` : key;
      const what = path === 'metrics' ? `unknown metric "${key}"` : `unknown option "${key}"`;
      const known = path === 'metrics' ? ` (known: ${METRIC_NAMES.join(', ')})` : '';
      throw invalid(`${what}${known}`, subject);
    }
    throw invalid(`${path || 'config'}: ${issue.message}`, path || 'config');
  }
  const config = result.data;
  if (config.thresholds.marginal > config.thresholds.pass) {
    throw invalid(`thresholds.marginal ${config.thresholds.marginal} is above thresholds.pass ${config.thresholds.pass}`, 'thresholds.marginal');
  }
  return config;
}

function invalid(message: string, subject: string) {
  return ANALYSIS_ERRORS.create('WVO_ANALYSIS_CONFIG_INVALID', `invalid analysis config: ${message}`, {
    subject,
    hint: 'see docs/errors.md (WVO_ANALYSIS_CONFIG_INVALID) for the metrics and their options',
  });
}

export const DEFAULT_ANALYSIS_CONFIG: AnalysisConfig = parseAnalysisConfig({});
