import { WvoError } from '../../../common/src/errors.js';
import { promotionErrors } from './errors.js';

/** One sample line of the Prometheus text exposition format. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export type LabelFilter = Readonly<Record<string, string | ((value: string) => boolean)>>;

/**
 * Parse prom-client's text exposition (format 0.0.4) into samples. Comments (`# HELP`, `# TYPE`)
 * are skipped: histogram series are found by their `_bucket`/`_count` suffixes.
 */
export function parsePromText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    samples.push(parseLine(line, i + 1));
  }
  return samples;
}

function parseLine(line: string, lineNo: number): PromSample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) throw parseError(line, lineNo, 'no metric name');
  const name = nameMatch[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos++;
    for (;;) {
      while (line[pos] === ' ' || line[pos] === ',') pos++;
      if (line[pos] === '}') {
        pos++;
        break;
      }
      const key = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(pos));
      if (!key || line[pos + key[0].length] !== '=' || line[pos + key[0].length + 1] !== '"') {
        throw parseError(line, lineNo, 'bad label');
      }
      pos += key[0].length + 2;
      let value = '';
      for (;;) {
        const ch = line[pos];
        if (ch === undefined) throw parseError(line, lineNo, 'unterminated label value');
        pos++;
        if (ch === '"') break;
        if (ch === '\\') {
          const next = line[pos++];
          value += next === 'n' ? '\n' : (next ?? '');
        } else value += ch;
      }
      labels[key[0]] = value;
    }
  }
  const rest = line.slice(pos).trim().split(/\s+/);
  const value = parseValue(rest[0]);
  if (value === undefined) throw parseError(line, lineNo, 'bad value');
  return { name, labels, value };
}

function parseValue(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const n = Number(text);
  return Number.isNaN(n) ? undefined : n;
}

function parseError(line: string, lineNo: number, why: string): WvoError {
  return promotionErrors.create('WVO_METRICS_PARSE', `metrics text line ${lineNo}: ${why}`, {
    subject: line.slice(0, 120),
    hint: 'the metrics endpoint must serve Prometheus text exposition (prom-client register.metrics())',
  });
}

function matches(labels: Readonly<Record<string, string>>, filter: LabelFilter): boolean {
  return Object.entries(filter).every(([key, want]) => {
    const have = labels[key];
    if (have === undefined) return false;
    return typeof want === 'function' ? want(have) : have === want;
  });
}

/** Sum of every series of `name` whose labels match `filter`. */
export function sumSeries(samples: readonly PromSample[], name: string, filter: LabelFilter = {}): number {
  return samples
    .filter((s) => s.name === name && matches(s.labels, filter))
    .reduce((sum, s) => sum + s.value, 0);
}

/**
 * Increase of a counter between two scrapes. A drop means the process restarted (counters reset
 * to zero), so the later value is itself the increase — Prometheus' `increase()` rule.
 */
export function counterIncrease(before: number, after: number): number {
  return after >= before ? after - before : after;
}

export interface Bucket {
  /** Upper bound (`le`), Infinity for `+Inf`. */
  readonly le: number;
  /** Cumulative count of observations ≤ le. */
  readonly count: number;
}

/** Cumulative buckets of histogram `name` (summed over series matching `filter`), sorted by le. */
export function histogramBuckets(samples: readonly PromSample[], name: string, filter: LabelFilter = {}): Bucket[] {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !matches(s.labels, filter)) continue;
    const le = parseValue(s.labels.le);
    if (le === undefined) continue;
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
}

/** Bucket counts observed between two scrapes (per-bucket counter increase). */
export function bucketIncrease(before: readonly Bucket[], after: readonly Bucket[]): Bucket[] {
  const prev = new Map(before.map((b) => [b.le, b.count]));
  return after.map((b) => ({ le: b.le, count: counterIncrease(prev.get(b.le) ?? 0, b.count) }));
}

/**
 * The q-quantile of cumulative buckets, interpolated linearly inside the bucket the rank falls
 * in (Prometheus `histogram_quantile`). Undefined when there are no observations. A rank in the
 * `+Inf` bucket answers the highest finite bound: the true value is only known to be above it.
 */
export function quantileFromBuckets(buckets: readonly Bucket[], q: number): number | undefined {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      const inBucket = b.count - prevCount;
      if (inBucket <= 0) return b.le;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
