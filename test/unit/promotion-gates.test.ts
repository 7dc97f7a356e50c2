import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_GATE_THRESHOLDS,
  bucketIncrease,
  counterIncrease,
  evaluateGates,
  failureDecision,
  gateThresholdsSchema,
  histogramBuckets,
  parsePromText,
  quantileFromBuckets,
  readWorkerSignals,
  sumSeries,
  type MetricsSnapshot,
} from '../../controller/src/promotion/index.js';

/** A real prom-client registry shaped like the proxy's. */
function proxyRegistry() {
  const registry = new Registry();
  const requests = new Counter({
    name: 'wvo_proxy_requests_total',
    help: 'requests',
    labelNames: ['lane', 'code'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'wvo_proxy_request_duration_seconds',
    help: 'latency',
    labelNames: ['lane'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  /** `n` requests on `lane` taking `seconds` each, `errors` of them 5xx. */
  const serve = (lane: string, n: number, seconds: number, errors = 0) => {
    for (let i = 0; i < n; i++) {
      requests.inc({ lane, code: i < errors ? (i % 2 ? '502' : '0') : '200' });
      duration.observe({ lane }, seconds);
    }
  };
  return { registry, serve, scrape: () => registry.metrics() };
}

describe('parse-prom', () => {
  it('parses prom-client text: counters by label, histogram buckets, escapes', async () => {
    const { registry, serve, scrape } = proxyRegistry();
    const odd = new Counter({ name: 'odd_total', help: 'h', labelNames: ['path'], registers: [registry] });
    odd.inc({ path: 'a "quoted"\\path\nnext' }, 3);
    serve('green', 10, 0.02, 2);
    serve('blue', 5, 0.2);
    const samples = parsePromText(await scrape());
    expect(sumSeries(samples, 'wvo_proxy_requests_total', { lane: 'green' })).toBe(10);
    expect(sumSeries(samples, 'wvo_proxy_requests_total', { lane: 'green', code: (s) => s.startsWith('5') })).toBe(1);
    expect(sumSeries(samples, 'wvo_proxy_requests_total')).toBe(15);
    expect(samples.find((s) => s.name === 'odd_total')?.labels.path).toBe('a "quoted"\\path\nnext');
    const buckets = histogramBuckets(samples, 'wvo_proxy_request_duration_seconds', { lane: 'blue' });
    expect(buckets.at(-1)).toEqual({ le: Infinity, count: 5 });
    expect(buckets.find((b) => b.le === 0.1)?.count).toBe(0);
    expect(buckets.find((b) => b.le === 0.25)?.count).toBe(5);
  });

  it('p95 from bucket increases between two scrapes (histogram_quantile interpolation)', async () => {
    const { serve, scrape } = proxyRegistry();
    serve('green', 100, 2); // before the interval: slow, must not count
    const before = parsePromText(await scrape());
    serve('green', 90, 0.02);
    serve('green', 10, 0.4);
    const after = parsePromText(await scrape());
    const name = 'wvo_proxy_request_duration_seconds';
    const inc = bucketIncrease(histogramBuckets(before, name), histogramBuckets(after, name));
    // rank 95 of 100 falls in (0.25, 0.5] holding 10 → 0.25 + 0.25 * 5/10
    expect(quantileFromBuckets(inc, 0.95)).toBeCloseTo(0.375, 6);
    expect(quantileFromBuckets(inc, 0.5)).toBeCloseTo(0.01 + 0.015 * (50 / 90), 6);
    expect(quantileFromBuckets([], 0.95)).toBeUndefined();
    expect(quantileFromBuckets([{ le: 1, count: 0 }, { le: Infinity, count: 4 }], 0.95)).toBe(1);
  });

  it('treats a counter drop as a restart', () => {
    expect(counterIncrease(10, 15)).toBe(5);
    expect(counterIncrease(100, 7)).toBe(7);
  });

  it('refuses garbage with WVO_METRICS_PARSE', () => {
    expect(() => parsePromText('ok_metric 1\n{bad} 2')).toThrow(expect.objectContaining({ code: 'WVO_METRICS_PARSE' }));
    expect(() => parsePromText('m{a="x} 1')).toThrow(expect.objectContaining({ code: 'WVO_METRICS_PARSE' }));
    expect(() => parsePromText('m abc')).toThrow(expect.objectContaining({ code: 'WVO_METRICS_PARSE' }));
  });
});

describe('gates', () => {
  const lanes = { candidate: 'green', baseline: 'blue' };
  /** Shaped like the worker's orchestrator_status (worker/src/operations). */
  const status = (byStatus: Record<string, number>, disagreements: number, pressure: number) => ({
    queue: { total: 10, by_status: byStatus, ready: 2, blocked: 0, shadow_diffs: { count: 0 } },
    critics: { count: 3, average_reputation: 0.7, lowest: null, reviews: 100, agreement_rate: (100 - disagreements) / 100 },
    token_pressure: { used_tokens: 10, budget: 100, ratio: pressure, level: 'low' },
    warnings: [],
  });

  async function interval(
    serveDuring: (serve: (lane: string, n: number, s: number, e?: number) => void) => void,
    extra: Partial<MetricsSnapshot> = {},
  ): Promise<[MetricsSnapshot, MetricsSnapshot]> {
    const { serve, scrape } = proxyRegistry();
    serve('green', 50, 0.03, 25); // history before the interval: ignored
    const before: MetricsSnapshot = {
      at: 0,
      proxyText: await scrape(),
      candidateStatus: status({ pending: 3 }, 1, 0.2),
      baselineStatus: status({ pending: 3 }, 1, 0.2),
    };
    serveDuring(serve);
    const after: MetricsSnapshot = {
      at: 10_000,
      proxyText: await scrape(),
      candidateStatus: status({ pending: 3 }, 1, 0.3),
      baselineStatus: status({ pending: 3 }, 1, 0.3),
      ...extra,
    };
    return [before, after];
  }

  // The limits these checks were written against (the defaults are a looser safety net now).
  const strict = gateThresholdsSchema.parse({ maxP95Ms: 1_000, maxQueueDrift: 5, maxCriticFailures: 0, maxTokenPressure: 0.9 });

  it('passes a healthy candidate, with per-lane figures', async () => {
    const [before, after] = await interval((serve) => {
      serve('green', 40, 0.03);
      serve('blue', 10, 0.03, 1);
    });
    const result = evaluateGates(before, after, lanes, strict);
    expect(result.pass).toBe(true);
    expect(result.reasons).toEqual([]);
    expect(result.checks.map((c) => c.status)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass']);
    expect(result.lanes.green).toMatchObject({ requests: 40, errors: 0, errorRate: 0 });
    expect(result.lanes.blue).toMatchObject({ requests: 10, errors: 1, errorRate: 0.1 });
    expect(result.lanes.green?.p95Ms).toBeCloseTo(48.75, 6) // 0.025 + 0.025 * 38/40 s;
  });

  it('fails a candidate failing half its calls, and a slow one', async () => {
    const [b1, a1] = await interval((serve) => serve('green', 40, 0.03, 20));
    const r1 = evaluateGates(b1, a1, lanes);
    expect(r1.pass).toBe(false);
    expect(r1.reasons).toEqual(['error_rate: candidate error rate 0.5 > 0.05']);
    const [b2, a2] = await interval((serve) => serve('green', 40, 2));
    expect(evaluateGates(b2, a2, lanes, strict).reasons).toEqual(['p95_latency: candidate p95 ms 2425 > 1000']);
    // The default safety net lets a busy-but-healthy 2.4 s p95 through…
    expect(evaluateGates(b2, a2, lanes).pass).toBe(true);
    // …and stops at 5 s (these test buckets end at 2.5 s, so the limit is checked by value).
    expect(DEFAULT_GATE_THRESHOLDS.maxP95Ms).toBe(5_000);
  });

  it('skips traffic gates below minRequests and says why', async () => {
    const [before, after] = await interval((serve) => serve('green', 3, 0.03, 3));
    const result = evaluateGates(before, after, lanes);
    expect(result.pass).toBe(true);
    expect(result.checks[0]).toMatchObject({ gate: 'error_rate', status: 'skipped', reason: '3 candidate requests < minRequests 10' });
  });

  it('fails queue drift, new critic failures and token pressure; thresholds are configurable', async () => {
    const [before, after] = await interval((serve) => serve('green', 20, 0.01), {
      candidateStatus: status({ pending: 9, running: 1 }, 4, 0.95),
      baselineStatus: status({ pending: 3, running: 1 }, 1, 0.1),
    });
    const result = evaluateGates(before, after, lanes, strict);
    expect(result.reasons).toEqual([
      'queue_parity: queue drift (by_status.pending) 6 > 5',
      'critic_failures: new critic failures 3 > 0',
      'token_pressure: candidate token pressure 0.95 > 0.9',
    ]);
    const lenient = gateThresholdsSchema.parse({ maxQueueDrift: 6, maxCriticFailures: 3, maxTokenPressure: 0.99 });
    expect(evaluateGates(before, after, lanes, lenient).pass).toBe(true);
    // Defaults: load-driven figures (drift 6, pressure 0.95, shared critic table) are not failures.
    const byDefault = evaluateGates(before, after, lanes);
    expect(byDefault.pass).toBe(true);
    expect(byDefault.checks.find((c) => c.gate === 'critic_failures')).toMatchObject({ status: 'skipped' });
  });

  it('skips worker gates without status, and reads alternative status spellings', async () => {
    const [before, after] = await interval((serve) => serve('green', 20, 0.01), { candidateStatus: undefined, baselineStatus: undefined });
    const result = evaluateGates({ ...before, candidateStatus: undefined }, after, lanes);
    expect(result.checks.slice(2).map((c) => c.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(readWorkerSignals({ queue: { counts: { ready: 2 } }, critic_failures: 4, token_pressure: { ratio: 0.5 } })).toEqual({
      queue: { ready: 2 },
      criticFailures: 4,
      tokenPressure: 0.5,
    });
    expect(readWorkerSignals({ critics: { failures: 2 } }).criticFailures).toBe(2);
    expect(readWorkerSignals('nonsense')).toEqual({ queue: undefined, criticFailures: undefined, tokenPressure: undefined });
  });

  it('follows the proxy metric names from config', async () => {
    const registry = new Registry();
    const c = new Counter({ name: 'proxy_http_total', help: 'h', labelNames: ['target', 'code'], registers: [registry] });
    const before: MetricsSnapshot = { at: 0, proxyText: await registry.metrics() };
    c.inc({ target: 'green', code: '500' }, 30);
    const after: MetricsSnapshot = { at: 1, proxyText: await registry.metrics() };
    const t = gateThresholdsSchema.parse({ metrics: { requests: 'proxy_http_total', laneLabel: 'target', statusLabel: 'code' } });
    expect(evaluateGates(before, after, lanes, t).reasons).toEqual(['error_rate: candidate error rate 1 > 0.05']);
    expect(DEFAULT_GATE_THRESHOLDS.metrics.laneLabel).toBe('lane');
  });

  it('N failures → rollback decision, total or consecutive', () => {
    expect(failureDecision({ checks: 5, failed: 3, consecutiveFailed: 1 }, 3, 'total')).toEqual({
      rollback: true,
      reason: '3 failed checks reached maxFailedChecks 3',
    });
    expect(failureDecision({ checks: 5, failed: 3, consecutiveFailed: 1 }, 3, 'consecutive').rollback).toBe(false);
    expect(failureDecision({ checks: 5, failed: 3, consecutiveFailed: 3 }, 3, 'consecutive').rollback).toBe(true);
  });
});
