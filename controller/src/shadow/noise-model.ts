import type { Diff, DiffKind } from './differ.js';
import { generaliseJsonPath, type PathKey } from './json-path.js';
import type { Thresholds } from './thresholds.js';

/**
 * Diffy's noise model. Samples run the same code as the baseline (replica lanes, and repeats of
 * read-only calls), so whatever differs between the baseline and a sample (timestamps, random
 * ids, counters) is noise, not a behaviour change. Every sample adds to what is learned; a
 * candidate difference at a noisy path is cancelled unless it is numeric and clearly larger than
 * the largest difference any sample showed.
 *
 * Noise is learned per tool and per field: array indices are generalised (`$.tasks[*].id`), so a
 * field seen noisy in any call of a tool is noisy in all of them (Diffy aggregates per endpoint).
 * Noise at a path masks that path only: a replica disagreeing about `$.a` says nothing about
 * `$.a.b` or `$.c` (the user-visible failure was one noisy parent hiding every change below it).
 */

export const VERDICTS = ['regression', 'addition', 'noise', 'within_threshold'] as const;
/**
 * `regression`: reported. `addition`: reported for review, but a path only the candidate has is
 * new behaviour, not broken behaviour. `noise`: the samples also differ there and the candidate
 * stays within them. `within_threshold`: the path is stable but the candidate's numeric
 * difference is within the absolute threshold (or the timestamp tolerance).
 */
export type Verdict = (typeof VERDICTS)[number];

export const REPORTED_VERDICTS: readonly Verdict[] = ['regression', 'addition'];

export function isReported(verdict: Verdict): boolean {
  return REPORTED_VERDICTS.includes(verdict);
}

/** What the baseline-vs-sample comparisons taught us about one generalised path. */
export interface NoiseEntry {
  /** A non-numeric value or type change was seen: any changed value here is noise. */
  readonly structural: boolean;
  /** The path was seen added or removed (present in one answer, absent in the other). */
  readonly presence: boolean;
  /** The largest numeric difference seen (ms for timestamps). */
  readonly magnitude: number;
  /** How many sample diffs showed this path (across calls and samples). */
  readonly seen: number;
  readonly kinds: readonly DiffKind[];
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

/**
 * Learn the noise from baseline-vs-sample diffs: every sample of every call of one tool, in any
 * order (pass them all; more samples see more of the noise).
 */
export function learnNoise(noiseDiffs: Iterable<Diff>): NoiseIndex {
  const index = new Map<string, NoiseEntry>();
  for (const diff of noiseDiffs) {
    const key = generaliseJsonPath(diff.keys);
    const seen = index.get(key) ?? { structural: false, presence: false, magnitude: 0, seen: 0, kinds: [] };
    const m = measure(diff);
    index.set(key, {
      structural: seen.structural || (diff.kind === 'changed' && m === undefined),
      presence: seen.presence || diff.kind !== 'changed',
      magnitude: m === undefined ? seen.magnitude : Math.max(seen.magnitude, m.delta),
      seen: seen.seen + 1,
      kinds: seen.kinds.includes(diff.kind) ? seen.kinds : [...seen.kinds, diff.kind],
    });
  }
  return index;
}

/** The noise learned at exactly this (generalised) path; ancestors and descendants do not count. */
export function noiseAt(index: NoiseIndex, keys: readonly PathKey[]): NoiseEntry | undefined {
  return index.get(generaliseJsonPath(keys));
}

/**
 * Whether the noise at a path covers a diff of this kind without measuring it. A value that
 * changed in a sample masks any change there; a path that came and went masks presence changes,
 * and value changes too unless it is an array element (a list whose length varies says nothing
 * about what its first element holds).
 */
function masks(noise: NoiseEntry, diff: Diff): boolean {
  if (noise.structural) return true;
  if (!noise.presence) return false;
  return diff.kind !== 'changed' || typeof diff.keys.at(-1) !== 'number';
}

/**
 * Classify one baseline-vs-candidate diff. A numeric (or timestamp) difference is reported when
 * its excess over the noise, `|candidate − baseline| − noise`, exceeds every threshold: the
 * absolute one (`timestamp_tolerance_ms` for timestamps), `relative × noise`, and on a noisy
 * path `proportional × |baseline|`. Any other difference at a noisy path is noise.
 */
export function classify(diff: Diff, index: NoiseIndex, thresholds: Thresholds): Classification {
  const noise = noiseAt(index, diff.keys);
  if (noise && masks(noise, diff)) {
    return { verdict: 'noise', reason: `also differs between the baseline and its samples (${noise.seen} time(s))` };
  }
  const m = measure(diff);
  if (m === undefined) {
    if (diff.kind === 'added') return { verdict: 'addition', reason: 'only the candidate has this path; the samples agree it is absent' };
    return noise
      ? { verdict: 'regression', reason: 'the samples differ only numerically here; the candidate differs in kind' }
      : { verdict: 'regression', reason: 'baseline and samples agree; the candidate differs' };
  }
  const noiseSize = noise?.magnitude ?? 0;
  const excess = m.delta - noiseSize;
  const allowed = allowedExcess(m, noiseSize, diff.before, thresholds);
  const unit = m.unit === 'timestamp' ? ' ms' : '';
  const figures = `candidate moved ${fmt(m.delta)}${unit}, largest baseline-vs-sample noise ${fmt(noiseSize)}${unit}`;
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
