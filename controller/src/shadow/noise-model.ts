import type { Diff } from './differ.js';
import { generaliseJsonPath, type PathKey } from './json-path.js';
import type { Thresholds } from './thresholds.js';

/**
 * Diffy's noise model, for one sample per call. The replica runs the same code as the baseline,
 * so whatever differs between those two (timestamps, random ids, counters) is noise, not a
 * behaviour change. A candidate difference at a noisy path is cancelled unless it is numeric and
 * clearly larger than the noise.
 *
 * Noise is learned per tool and per field: array indices are generalised (`$.tasks[*].id`), so a
 * field seen noisy in any call of a tool is noisy in all of them (Diffy aggregates per endpoint).
 */

export const VERDICTS = ['regression', 'noise', 'within_threshold'] as const;
/**
 * `regression`: reported. `noise`: the path also differs between baseline and replica and the
 * candidate stays within it. `within_threshold`: the path is stable but the candidate's numeric
 * difference is within the absolute threshold (or the timestamp tolerance).
 */
export type Verdict = (typeof VERDICTS)[number];

export const REPORTED_VERDICTS: readonly Verdict[] = ['regression'];

export function isReported(verdict: Verdict): boolean {
  return REPORTED_VERDICTS.includes(verdict);
}

/** What the baseline-vs-replica comparison taught us about one generalised path. */
export interface NoiseEntry {
  /** A non-numeric difference was seen (value, type or presence): the path is noisy, full stop. */
  readonly structural: boolean;
  /** The largest numeric difference seen (ms for timestamps). */
  readonly magnitude: number;
}

export type NoiseIndex = ReadonlyMap<string, NoiseEntry>;

export interface Classification {
  readonly verdict: Verdict;
  readonly reason: string;
}

/** A numeric reading of a changed leaf: plain numbers, or ISO 8601 timestamps as epoch ms. */
export interface Measure {
  readonly delta: number;
  readonly unit: 'number' | 'timestamp';
}

// Date, `T` or space, time, optional fraction and zone (SQLite's `datetime('now')` has none).
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

export function timestampMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = ISO_TIMESTAMP.exec(value);
  if (!match) return undefined;
  // Zone-less stamps are read as UTC on every lane alike, so their differences stay exact.
  const ms = Date.parse(value.replace(' ', 'T') + (match[1] ? '' : 'Z'));
  return Number.isFinite(ms) ? ms : undefined;
}

export function measure(diff: Diff): Measure | undefined {
  if (diff.kind !== 'changed') return undefined;
  const { before, after } = diff;
  if (typeof before === 'number' && typeof after === 'number' && Number.isFinite(before) && Number.isFinite(after)) {
    return { delta: Math.abs(after - before), unit: 'number' };
  }
  const a = timestampMs(before);
  const b = timestampMs(after);
  if (a !== undefined && b !== undefined) return { delta: Math.abs(b - a), unit: 'timestamp' };
  return undefined;
}

/** Learn the noise from baseline-vs-replica diffs (of every call of one tool). */
export function learnNoise(noiseDiffs: Iterable<Diff>): NoiseIndex {
  const index = new Map<string, NoiseEntry>();
  for (const diff of noiseDiffs) {
    const key = generaliseJsonPath(diff.keys);
    const seen = index.get(key) ?? { structural: false, magnitude: 0 };
    const m = measure(diff);
    index.set(
      key,
      m === undefined
        ? { ...seen, structural: true }
        : { ...seen, magnitude: Math.max(seen.magnitude, m.delta) },
    );
  }
  return index;
}

/**
 * The noise that applies at `keys`: its own entry, or structural noise at any ancestor (if the
 * replica already disagrees about `$.a`, nothing below `$.a` can be trusted either).
 */
export function noiseAt(index: NoiseIndex, keys: readonly PathKey[]): NoiseEntry | undefined {
  for (let depth = 0; depth < keys.length; depth++) {
    if (index.get(generaliseJsonPath(keys.slice(0, depth)))?.structural) return { structural: true, magnitude: 0 };
  }
  return index.get(generaliseJsonPath(keys));
}

/**
 * Classify one baseline-vs-candidate diff. A numeric (or timestamp) difference is reported when
 * its excess over the noise, `|candidate − baseline| − noise`, exceeds every threshold: the
 * absolute one (`timestamp_tolerance_ms` for timestamps), `relative × noise`, and on a noisy
 * path `proportional × |baseline|`. Any other difference at a noisy path is noise.
 */
export function classify(diff: Diff, index: NoiseIndex, thresholds: Thresholds): Classification {
  const noise = noiseAt(index, diff.keys);
  if (noise?.structural) {
    return { verdict: 'noise', reason: 'also differs between baseline and replica' };
  }
  const m = measure(diff);
  if (m === undefined) {
    return noise
      ? { verdict: 'regression', reason: 'baseline and replica differ only numerically here; the candidate differs in kind' }
      : { verdict: 'regression', reason: 'baseline and replica agree; the candidate differs' };
  }
  const noiseSize = noise?.magnitude ?? 0;
  const excess = m.delta - noiseSize;
  const allowed = allowedExcess(m, noiseSize, diff.before, thresholds);
  const unit = m.unit === 'timestamp' ? ' ms' : '';
  const figures = `candidate moved ${fmt(m.delta)}${unit}, baseline-vs-replica noise ${fmt(noiseSize)}${unit}`;
  if (excess > allowed) {
    return { verdict: 'regression', reason: `${figures}: exceeds the noise by more than ${fmt(allowed)}${unit}` };
  }
  return noiseSize > 0
    ? { verdict: 'noise', reason: `${figures}: within the noise (allowed excess ${fmt(allowed)}${unit})` }
    : { verdict: 'within_threshold', reason: `${figures}: within the ${m.unit === 'timestamp' ? 'timestamp tolerance' : 'absolute threshold'}` };
}

function allowedExcess(m: Measure, noiseSize: number, baseline: unknown, thresholds: Thresholds): number {
  const absolute = m.unit === 'timestamp' ? thresholds.timestamp_tolerance_ms : thresholds.absolute;
  if (noiseSize === 0) return absolute;
  // A timestamp's magnitude is its distance from 1970, not a scale: only plain numbers get it.
  const magnitude = m.unit === 'number' && typeof baseline === 'number' ? Math.abs(baseline) : 0;
  return Math.max(absolute, thresholds.relative * noiseSize, thresholds.proportional * magnitude);
}

function fmt(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}
