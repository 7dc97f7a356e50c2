import { quantileFromBuckets, type Bucket } from '../parse-prom.js';
import { ANALYSIS_ERRORS } from './errors.js';

/**
 * A sample as the analysis sees it: ascending distinct values with their counts. Raw values
 * (probe timings, tests) group exactly; a Prometheus histogram becomes one point per bucket at
 * its upper bound (`binned`), which the rank test treats as ties — what a bucket is.
 */
export interface Distribution {
  readonly points: ReadonlyArray<{ readonly value: number; readonly count: number }>;
  readonly binned: boolean;
}

export function distributionFromValues(values: readonly number[]): Distribution {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  const points: Array<{ value: number; count: number }> = [];
  for (const value of sorted) {
    const last = points.at(-1);
    if (last?.value === value) last.count += 1;
    else points.push({ value, count: 1 });
  }
  return { points, binned: false };
}

/** From cumulative histogram buckets (as `histogramBuckets`/`bucketIncrease` give them). */
export function distributionFromBuckets(buckets: readonly Bucket[]): Distribution {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const points: Array<{ value: number; count: number }> = [];
  let previous = 0;
  for (const bucket of sorted) {
    const count = bucket.count - previous;
    if (count < 0) {
      throw ANALYSIS_ERRORS.create('WVO_ANALYSIS_INPUT_INVALID', `histogram bucket le=${bucket.le} holds fewer observations than the one below it`, {
        subject: `le=${bucket.le}`,
        hint: 'pass cumulative buckets (Prometheus _bucket series), after counter resets are handled',
      });
    }
    // Empty buckets stay: their bounds are the lower edges quantiles interpolate from.
    points.push({ value: bucket.le, count });
    previous = bucket.count;
  }
  return { points, binned: true };
}

export function sampleSize(distribution: Distribution): number {
  return distribution.points.reduce((sum, p) => sum + p.count, 0);
}

/**
 * The q-quantile: interpolated inside buckets for binned data (Prometheus `histogram_quantile`),
 * linear between order statistics for raw values (R type 7). Undefined when empty.
 */
export function quantile(distribution: Distribution, q: number): number | undefined {
  const n = sampleSize(distribution);
  if (n === 0) return undefined;
  if (distribution.binned) {
    let cumulative = 0;
    return quantileFromBuckets(distribution.points.map((p) => ({ le: p.value, count: (cumulative += p.count) })), q);
  }
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const at = (rank: number): number => {
    let seen = 0;
    for (const p of distribution.points) {
      seen += p.count;
      if (rank < seen) return p.value;
    }
    return distribution.points.at(-1)!.value;
  };
  const low = at(lo);
  return low + (h - lo) * (at(Math.min(lo + 1, n - 1)) - low);
}
