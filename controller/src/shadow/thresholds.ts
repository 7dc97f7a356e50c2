import { z } from 'zod';
import { shadowErrors } from './errors.js';

/**
 * How much larger than the baseline-vs-replica noise a candidate's difference must be before it
 * is reported (Diffy's relative and absolute thresholds, applied to one value instead of a rate).
 */
const fields = {
  /** The candidate's excess over the noise must exceed `relative × noise` (1 = twice the noise). */
  relative: z.number().min(0),
  /** …and must exceed this many units (0: any excess counts; it also applies to stable paths). */
  absolute: z.number().min(0),
  /**
   * …and, on a noisy path, this fraction of the baseline's magnitude. One baseline-vs-replica
   * sample under-estimates jitter (uptime, heap size); a value that moved by a few percent of
   * itself where it is known to move is not a behaviour change.
   */
  proportional: z.number().min(0),
  /**
   * ISO 8601 timestamps are compared as instants; lanes run concurrently, not simultaneously,
   * so clock-derived values may differ by this much without being a difference at all.
   */
  timestamp_tolerance_ms: z.number().int().min(0),
};

export const DEFAULT_THRESHOLDS = Object.freeze({
  relative: 1,
  absolute: 0,
  proportional: 0.05,
  timestamp_tolerance_ms: 2000,
});

export const ThresholdsSchema = z.strictObject(fields);
/** What a suite file or a caller may set; unset fields fall back to DEFAULT_THRESHOLDS. */
export const PartialThresholdsSchema = ThresholdsSchema.partial();

export type Thresholds = z.infer<typeof ThresholdsSchema>;
export type PartialThresholds = z.infer<typeof PartialThresholdsSchema>;

/** Later layers win: defaults ← suite file ← caller. */
export function resolveThresholds(...layers: (PartialThresholds | undefined)[]): Thresholds {
  const merged: Record<string, unknown> = { ...DEFAULT_THRESHOLDS };
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer ?? {})) if (value !== undefined) merged[key] = value;
  }
  const parsed = ThresholdsSchema.safeParse(merged);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw shadowErrors.create('WVO_SHADOW_THRESHOLDS_INVALID', `shadow threshold ${issue.path.join('.')}: ${issue.message}`, {
    subject: `thresholds.${issue.path.join('.')}`,
    hint: 'relative, absolute and proportional are numbers ≥ 0; timestamp_tolerance_ms is an integer ≥ 0.',
  });
}
