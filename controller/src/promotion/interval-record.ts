import { z } from 'zod';
import { ANALYSIS_VERDICTS } from './analysis/judge.js';
import { CHECK_VERDICTS } from './analysis/checks.js';
import { METRIC_NAMES } from './analysis/config.js';
import { OBSERVED_STATES } from './states.js';

/** What the candidate was compared with in an interval. */
export const COMPARISONS = [
  /** Both lanes took traffic in the same interval (a weighted step). */
  'live',
  /** After the switch: the baseline's traffic in the window just before the switch. */
  'pre_switch',
  /** No baseline sample (first interval after a controller restart): absolute gates only. */
  'none',
] as const;
export type Comparison = (typeof COMPARISONS)[number];

/**
 * One analysed interval as persisted with the deployment and in promotion_plan.json: the judge's
 * verdict, score and reasons, the absolute gates' outcome, and each metric's figures (compact).
 */
export const intervalRecordSchema = z.object({
  at: z.number(),
  state: z.enum(OBSERVED_STATES),
  /** The candidate's share of new sessions in the interval, percent (100 after the switch). */
  weight: z.number(),
  phase: z.number().int().min(0),
  comparison: z.enum(COMPARISONS),
  verdict: z.enum(ANALYSIS_VERDICTS),
  score: z.number().nullable(),
  reasons: z.array(z.string()),
  /** The absolute safety net (evaluateGates): `fail` is a failed check whatever the verdict. */
  gates: z.enum(['pass', 'fail', 'skipped']),
  checks: z.array(
    z.object({
      metric: z.enum(METRIC_NAMES),
      subject: z.string().optional(),
      verdict: z.enum(CHECK_VERDICTS),
      candidate: z.number().optional(),
      baseline: z.number().optional(),
      pValue: z.number().optional(),
      effect: z.number().optional(),
    }),
  ),
});
export type IntervalRecord = z.infer<typeof intervalRecordSchema>;

/** Intervals kept per deployment (the newest; a 10-minute window at 15 s is 40). */
export const MAX_INTERVAL_RECORDS = 200;
