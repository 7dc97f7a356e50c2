import { z } from 'zod';
import {
  bucketIncrease,
  counterIncrease,
  histogramBuckets,
  parsePromText,
  quantileFromBuckets,
  sumSeries,
  type PromSample,
} from './parse-prom.js';

/** The checks run every interval while observing (DESIGN §5). */
export const GATE_NAMES = ['error_rate', 'p95_latency', 'queue_parity', 'critic_failures', 'token_pressure'] as const;
export type GateName = (typeof GATE_NAMES)[number];

export const CHECK_STATUS = ['pass', 'fail', 'skipped'] as const;
export type CheckStatus = (typeof CHECK_STATUS)[number];

/** `total`: N failed checks in the whole observation; `consecutive`: N in a row. */
export const FAILURE_MODES = ['total', 'consecutive'] as const;
export type FailureMode = (typeof FAILURE_MODES)[number];

/**
 * Thresholds and the proxy's metric names. Names are configurable so the gates follow the proxy
 * room's registry rather than hard-coding it. These absolute limits are the safety net behind the
 * candidate-vs-baseline analysis: their defaults catch a broken lane (5xx, multi-second answers,
 * lanes that disagree on the queue, tokens over budget), never load — a healthy lane under writer
 * load on two busy cores stays well inside them. Regressions are the analysis' job.
 */
export const gateThresholdsSchema = z.object({
  /** Candidate 5xx / requests between two scrapes. */
  maxErrorRate: z.number().min(0).max(1).default(0.05),
  /** Candidate p95 of request latency between two scrapes, milliseconds (busy cores push a healthy p95 past 1 s). */
  maxP95Ms: z.number().positive().default(5_000),
  /** Fewer candidate requests than this in an interval: error rate and p95 are not judged. */
  minRequests: z.number().int().min(0).default(10),
  /**
   * Largest allowed |candidate − baseline| of any queue count. Both lanes read the same live
   * database, but their status calls are not simultaneous under load, so a little drift is normal.
   */
  maxQueueDrift: z.number().int().min(0).default(50),
  /**
   * New critic failures on the candidate allowed per interval. Off by default (null): the critics'
   * table is shared by both lanes, so under writers its count moves with load, not with the lane.
   */
  maxCriticFailures: z.number().int().min(0).nullable().default(null),
  /** Candidate token pressure allowed (1: tokens in flight up to the whole budget). */
  maxTokenPressure: z.number().min(0).max(2).default(1),
  metrics: z
    .object({
      requests: z.string().default('wvo_proxy_requests_total'),
      duration: z.string().default('wvo_proxy_request_duration_seconds'),
      durationUnit: z.enum(['seconds', 'milliseconds']).default('seconds'),
      laneLabel: z.string().default('lane'),
      /** Response status label; `5xx` and `0` (no response) count as errors. */
      statusLabel: z.string().default('code'),
    })
    .prefault({}),
});
export type GateThresholds = z.infer<typeof gateThresholdsSchema>;
export const DEFAULT_GATE_THRESHOLDS: GateThresholds = gateThresholdsSchema.parse({});

/** What `EffectRunner.readMetrics` returns: raw material, parsed here (pure core). */
export interface MetricsSnapshot {
  /** Clock time of the scrape, ms. */
  readonly at: number;
  /** The proxy's `/metrics` body (prom-client text exposition). */
  readonly proxyText: string;
  /** The candidate worker's `orchestrator_status` JSON, if it answered. */
  readonly candidateStatus?: unknown;
  /** The baseline worker's `orchestrator_status` JSON, if it answered (it may be draining). */
  readonly baselineStatus?: unknown;
}

export interface GateCheck {
  readonly gate: GateName;
  readonly status: CheckStatus;
  readonly reason: string;
  readonly value?: number;
  readonly limit?: number;
}

export interface LaneFigures {
  readonly requests: number;
  readonly errors: number;
  readonly errorRate: number | undefined;
  readonly p95Ms: number | undefined;
}

export interface GateResult {
  readonly pass: boolean;
  readonly checks: readonly GateCheck[];
  /** One line per failed check; empty when passing. */
  readonly reasons: readonly string[];
  readonly lanes: Readonly<Record<string, LaneFigures>>;
}

/**
 * The worker's `orchestrator_status` as far as the gates need it. Read leniently: queue counts
 * are the numeric fields of `.queue` and `.queue.by_status` (or `.queue.counts`); token pressure
 * a 0..1 number at `.token_pressure.ratio` or `.token_pressure`; critic failures a cumulative
 * count at `.critics.failures`, `.critic_failures`, or else the critics' disagreements with the
 * checks, `reviews × (1 − agreement_rate)`.
 */
const workerStatusSchema = z
  .object({
    queue: z.record(z.string(), z.unknown()).optional(),
    critics: z
      .object({ failures: z.number().optional(), reviews: z.number().optional(), agreement_rate: z.number().optional() })
      .loose()
      .optional(),
    critic_failures: z.number().optional(),
    token_pressure: z.union([z.number(), z.object({ ratio: z.number() }).loose()]).optional(),
  })
  .loose();

export interface WorkerSignals {
  readonly queue: Readonly<Record<string, number>> | undefined;
  readonly criticFailures: number | undefined;
  readonly tokenPressure: number | undefined;
}

export function readWorkerSignals(status: unknown): WorkerSignals {
  const parsed = workerStatusSchema.safeParse(status);
  if (!parsed.success) return { queue: undefined, criticFailures: undefined, tokenPressure: undefined };
  const s = parsed.data;
  const numbers = (value: unknown, prefix = ''): Array<[string, number]> =>
    value !== null && typeof value === 'object'
      ? Object.entries(value).filter((e): e is [string, number] => typeof e[1] === 'number').map(([k, v]) => [prefix + k, v])
      : [];
  const queue = s.queue
    ? Object.fromEntries([...numbers(s.queue.counts ?? s.queue), ...numbers(s.queue.by_status, 'by_status.')])
    : undefined;
  const tp = s.token_pressure;
  const c = s.critics;
  const disagreements =
    c?.reviews !== undefined && c.agreement_rate !== undefined ? Math.round(c.reviews * (1 - c.agreement_rate)) : undefined;
  return {
    queue,
    criticFailures: c?.failures ?? s.critic_failures ?? disagreements,
    tokenPressure: typeof tp === 'number' ? tp : tp?.ratio,
  };
}

function laneFigures(
  before: readonly PromSample[],
  after: readonly PromSample[],
  lane: string,
  t: GateThresholds,
): LaneFigures {
  const m = t.metrics;
  const onLane = { [m.laneLabel]: lane };
  const isError = { ...onLane, [m.statusLabel]: (v: string) => v.startsWith('5') || v === '0' };
  const requests = counterIncrease(sumSeries(before, m.requests, onLane), sumSeries(after, m.requests, onLane));
  const errors = counterIncrease(sumSeries(before, m.requests, isError), sumSeries(after, m.requests, isError));
  const buckets = bucketIncrease(histogramBuckets(before, m.duration, onLane), histogramBuckets(after, m.duration, onLane));
  const p95 = quantileFromBuckets(buckets, 0.95);
  const scale = m.durationUnit === 'seconds' ? 1000 : 1;
  return {
    requests,
    errors,
    errorRate: requests > 0 ? errors / requests : undefined,
    p95Ms: p95 === undefined ? undefined : p95 * scale,
  };
}

const round = (n: number, digits = 4): number => Number(n.toFixed(digits));

function limitCheck(gate: GateName, value: number, limit: number, what: string): GateCheck {
  const pass = value <= limit;
  return {
    gate,
    status: pass ? 'pass' : 'fail',
    value: round(value),
    limit,
    reason: `${what} ${round(value)} ${pass ? '≤' : '>'} ${limit}`,
  };
}

const skipped = (gate: GateName, reason: string): GateCheck => ({ gate, status: 'skipped', reason });

/**
 * Judge one interval: the candidate lane between two scrapes. Pure: no clock, no I/O. A check
 * without data is `skipped` (it neither passes nor fails the interval) and says why.
 */
export function evaluateGates(
  before: MetricsSnapshot,
  after: MetricsSnapshot,
  lanes: { readonly candidate: string; readonly baseline: string },
  thresholds: GateThresholds = DEFAULT_GATE_THRESHOLDS,
): GateResult {
  const prevSamples = parsePromText(before.proxyText);
  const curSamples = parsePromText(after.proxyText);
  const candidate = laneFigures(prevSamples, curSamples, lanes.candidate, thresholds);
  const baseline = laneFigures(prevSamples, curSamples, lanes.baseline, thresholds);
  const checks: GateCheck[] = [];
  const enoughTraffic = candidate.requests >= thresholds.minRequests && candidate.requests > 0;
  const traffic = `${candidate.requests} candidate requests < minRequests ${thresholds.minRequests}`;

  checks.push(
    enoughTraffic && candidate.errorRate !== undefined
      ? limitCheck('error_rate', candidate.errorRate, thresholds.maxErrorRate, `candidate error rate`)
      : skipped('error_rate', traffic),
  );
  checks.push(
    enoughTraffic && candidate.p95Ms !== undefined
      ? limitCheck('p95_latency', candidate.p95Ms, thresholds.maxP95Ms, `candidate p95 ms`)
      : skipped('p95_latency', candidate.p95Ms === undefined ? 'no latency observations' : traffic),
  );

  const cand = readWorkerSignals(after.candidateStatus);
  const base = readWorkerSignals(after.baselineStatus);
  checks.push(queueParity(cand.queue, base.queue, thresholds.maxQueueDrift));

  const prevCand = readWorkerSignals(before.candidateStatus);
  checks.push(
    thresholds.maxCriticFailures === null
      ? skipped('critic_failures', 'no absolute limit (maxCriticFailures): judged against the baseline by the analysis')
      : cand.criticFailures !== undefined && prevCand.criticFailures !== undefined
      ? limitCheck(
          'critic_failures',
          counterIncrease(prevCand.criticFailures, cand.criticFailures),
          thresholds.maxCriticFailures,
          'new critic failures',
        )
      : skipped('critic_failures', 'candidate status has no critic failure count in both scrapes'),
  );
  checks.push(
    cand.tokenPressure !== undefined
      ? limitCheck('token_pressure', cand.tokenPressure, thresholds.maxTokenPressure, 'candidate token pressure')
      : skipped('token_pressure', 'candidate status has no token pressure'),
  );

  const failed = checks.filter((c) => c.status === 'fail');
  return {
    pass: failed.length === 0,
    checks,
    reasons: failed.map((c) => `${c.gate}: ${c.reason}`),
    lanes: { [lanes.candidate]: candidate, [lanes.baseline]: baseline },
  };
}

function queueParity(
  candidate: Readonly<Record<string, number>> | undefined,
  baseline: Readonly<Record<string, number>> | undefined,
  maxDrift: number,
): GateCheck {
  if (!candidate || !baseline) {
    return skipped('queue_parity', `no queue counts from ${candidate ? 'baseline' : 'candidate'}`);
  }
  let worst = 0;
  let worstKey = '';
  for (const key of new Set([...Object.keys(candidate), ...Object.keys(baseline)])) {
    const drift = Math.abs((candidate[key] ?? 0) - (baseline[key] ?? 0));
    if (drift > worst) [worst, worstKey] = [drift, key];
  }
  return limitCheck('queue_parity', worst, maxDrift, `queue drift${worstKey ? ` (${worstKey})` : ''}`);
}

export interface CheckCounts {
  readonly checks: number;
  readonly failed: number;
  readonly consecutiveFailed: number;
}

/** Has the observation failed often enough to roll back? */
export function failureDecision(
  counts: CheckCounts,
  maxFailedChecks: number,
  mode: FailureMode,
): { readonly rollback: boolean; readonly reason: string } {
  const n = mode === 'total' ? counts.failed : counts.consecutiveFailed;
  const label = mode === 'total' ? 'failed checks' : 'consecutive failed checks';
  return n >= maxFailedChecks
    ? { rollback: true, reason: `${n} ${label} reached maxFailedChecks ${maxFailedChecks}` }
    : { rollback: false, reason: `${n} ${label} of ${maxFailedChecks} allowed` };
}
