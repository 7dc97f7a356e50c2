import { describe, expect, it } from 'vitest';
import {
  distributionFromValues,
  judgeInterval,
  laneSampleFromScrapes,
  parseAnalysisConfig,
  parsePromText,
  type IntervalInput,
  type LaneSample,
  type ToolSample,
} from '../../controller/src/promotion/index.js';
import { ProxyMetrics } from '../../controller/src/proxy/metrics.js';

/** A seeded generator (mulberry32) and log-normal latencies around a median, like tool calls. */
function generator(seed: number) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, latency: (medianSeconds: number) => medianSeconds * Math.exp(0.3 * normal()) };
}

const TOOLS = { plan_next: 0.004, verify: 0.03, report: 0.008 };

function lane(seed: number, options: { calls?: number; slow?: Record<string, number>; errorRate?: Record<string, number>; tokenPressure?: number } = {}): LaneSample {
  const g = generator(seed);
  const calls = options.calls ?? 200;
  const tools: Record<string, ToolSample> = {};
  for (const [tool, median] of Object.entries(TOOLS)) {
    const latencies = Array.from({ length: calls }, () => g.latency(median * (options.slow?.[tool] ?? 1)));
    // a healthy worker answers ~1% of calls with a tool error (bad input) on both lanes
    const errors = latencies.filter(() => g.uniform() < (options.errorRate?.[tool] ?? 0.01)).length;
    tools[tool] = { calls, errors, latency: distributionFromValues(latencies) };
  }
  return {
    requests: calls * 3 + 10,
    transportErrors: 0,
    tools,
    workers: { tokenPressure: options.tokenPressure ?? 0.4, queue: { pending: 40, claimed: 3 }, newCriticFailures: 0 },
  };
}

const healthy = (candidate: LaneSample, probes: IntervalInput['probes'] = []): IntervalInput => ({ candidate, baseline: lane(2), probes });

describe('interval judge', () => {
  it('identical distributions pass with score 100', () => {
    const result = judgeInterval(healthy(lane(1), [{ name: 'status-shape', lane: 'candidate', ok: true }]));
    expect(result.verdict).toBe('pass');
    expect(result.score).toBe(100);
    expect(result.reasons).toEqual([]);
    expect(result.checks.filter((c) => c.verdict !== 'pass')).toEqual([]);
    // several healthy intervals in a row (false-rollback guard): all pass
    for (let seed = 10; seed < 30; seed += 2) expect(judgeInterval({ candidate: lane(seed), baseline: lane(seed + 1) }).verdict).toBe('pass');
  });

  it('a whole lane slower (shared cores, cold JIT: every tool alike) is taken out; one tool slower than its own lane still fails', () => {
    // Every tool ×2.5 on the candidate: the lane's common factor, not a regression of any tool.
    const wholeLane = judgeInterval(healthy(lane(1, { slow: { plan_next: 2.5, verify: 2.5, report: 2.5 } })));
    expect(wholeLane.verdict).toBe('pass');
    const latency = wholeLane.checks.filter((c) => c.metric === 'tool_latency');
    expect(latency.every((c) => c.verdict === 'pass' && c.effect! < 1.5)).toBe(true);
    expect(latency[0]!.reason).toMatch(/the candidate lane ran ×2\.\d\d slower on plan_next, report, verify, taken out/);
    // On top of that lane-wide ×2.5, verify alone ×2 more: verify fails, with its own ratio.
    const oneTool = judgeInterval(healthy(lane(1, { slow: { plan_next: 2.5, verify: 5, report: 2.5 } })));
    expect(oneTool.verdict).toBe('fail');
    expect(oneTool.reasons.join('\n')).toMatch(/tool verify is [12]\.\d× slower on the candidate/);
    // A faster candidate lane is compared as it is (no factor below 1): its unchanged tool is not "slower".
    const faster = judgeInterval(healthy(lane(1, { slow: { plan_next: 0.5, report: 0.5 } })));
    expect(faster.verdict).toBe('pass');
    // Two timed tools cannot tell a tool from its lane: latency is not judged (recorded, with why).
    const two = (l: LaneSample): LaneSample => ({ ...l, tools: { plan_next: l.tools.plan_next!, verify: l.tools.verify! } });
    const narrow = judgeInterval({ candidate: two(lane(1, { slow: { verify: 3 } })), baseline: two(lane(2)) });
    const verify = narrow.checks.find((c) => c.metric === 'tool_latency' && c.subject === 'verify')!;
    expect(verify.verdict).toBe('insufficient');
    expect(verify.reason).toMatch(/fewer than 3 tools timed on both lanes/);
    expect(verify.candidate! / verify.baseline!).toBeGreaterThan(2);
  });

  it('a tool 2× slower on the candidate fails, and the reason names the tool', () => {
    const result = judgeInterval(healthy(lane(1, { slow: { verify: 2 } })));
    expect(result.verdict).toBe('fail');
    expect(result.score).toBe(0);
    const failed = result.checks.filter((c) => c.verdict === 'fail');
    expect(failed.map((c) => [c.metric, c.subject])).toEqual([['tool_latency', 'verify']]);
    expect(failed[0]!.effect).toBeGreaterThan(1.7);
    expect(result.reasons).toEqual([expect.stringMatching(/^tool verify is [12]\.\d× slower on the candidate/)]);
  });

  it('20 % tool errors on the candidate fail, naming the tool', () => {
    const result = judgeInterval(healthy(lane(1, { errorRate: { report: 0.2 } })));
    expect(result.verdict).toBe('fail');
    const failed = result.checks.filter((c) => c.verdict === 'fail');
    expect(failed.map((c) => [c.metric, c.subject])).toEqual([['tool_errors', 'report']]);
    expect(result.reasons[0]).toMatch(/^tool report errors 2\d\.\d% on the candidate vs [01]\.\d% on the baseline/);
  });

  it('too few samples: insufficient, not fail (even with an alarming-looking tool), and says what is missing', () => {
    const result = judgeInterval(healthy(lane(1, { calls: 5, slow: { verify: 2 }, errorRate: { report: 0.4 } })));
    expect(result.verdict).toBe('insufficient');
    expect(result.checks.filter((c) => c.metric === 'tool_latency').every((c) => c.verdict === 'insufficient')).toBe(true);
    expect(result.reasons).toContain('tool verify latency: 5 candidate / 200 baseline timed calls, need 20 on each');
    // Not judged, but its medians are recorded (charted by the status page): the candidate's twice the baseline's.
    const verify = result.checks.find((c) => c.metric === 'tool_latency' && c.subject === 'verify')!;
    expect(verify.candidate! / verify.baseline!).toBeGreaterThan(1.5);
    expect(result.checks.some((c) => c.verdict === 'fail')).toBe(false);
    // nothing at all → insufficient with a null score
    const empty = judgeInterval({ candidate: { tools: {} }, baseline: { tools: {} } });
    expect(empty).toMatchObject({ verdict: 'insufficient', score: null });
  });

  it('a failed probe on the candidate fails the interval with the probe\'s name', () => {
    const result = judgeInterval(
      healthy(lane(1), [
        { name: 'plan-next-shape', lane: 'candidate', ok: false, reason: '$.tasks is not an array' },
        { name: 'plan-next-shape', lane: 'baseline', ok: true },
      ]),
    );
    expect(result.verdict).toBe('fail');
    expect(result.reasons).toEqual(['probe plan-next-shape failed on the candidate: $.tasks is not an array']);
  });

  it('non-critical failures lower the score: marginal and fail by the configured thresholds', () => {
    const input = healthy(lane(1, { tokenPressure: 0.8 }));
    // 10 scored checks of weight 1 plus token pressure weight 4: 9 / 13 = 69.2
    const marginal = judgeInterval(input, parseAnalysisConfig({ metrics: { token_pressure: { weight: 4 } } }));
    expect(marginal).toMatchObject({ verdict: 'marginal', score: 69.2 });
    expect(marginal.reasons).toEqual([
      'token pressure 0.8 on the candidate vs 0.4 on the baseline (+0.4, allowed +0.2)',
      'score 69.2 is below the pass threshold 75',
    ]);
    expect(judgeInterval(input, parseAnalysisConfig({ thresholds: { pass: 95, marginal: 92 } })).verdict).toBe('fail');
    expect(judgeInterval(input).verdict).toBe('pass'); // 10/11 = 90.9 with defaults
    expect(judgeInterval(input, parseAnalysisConfig({ metrics: { token_pressure: { criticality: 'critical' } } })).verdict).toBe('fail');
    expect(judgeInterval(input, parseAnalysisConfig({ metrics: { token_pressure: { criticality: 'report-only' } } })).score).toBe(100);
  });
});

describe('analysis config', () => {
  it('defaults like Kayenta: pass 75, marginal 50', () => {
    expect(parseAnalysisConfig().thresholds).toEqual({ pass: 75, marginal: 50 });
    expect(parseAnalysisConfig().metrics.tool_latency).toMatchObject({ criticality: 'critical', minSamples: 20, alpha: 0.01 });
  });

  it('bad input → WVO_ANALYSIS_CONFIG_INVALID naming the field', () => {
    const bad = (input: unknown, subject: string, message: RegExp) =>
      expect(() => parseAnalysisConfig(input)).toThrow(expect.objectContaining({ code: 'WVO_ANALYSIS_CONFIG_INVALID', subject, message: expect.stringMatching(message) }));
    bad({ metrics: { latency_p99: {} } }, 'metrics.latency_p99', /unknown metric "latency_p99" \(known: tool_latency,/);
    bad({ metrics: { tool_latency: { maxratio: 2 } } }, 'metrics.tool_latency.maxratio', /unknown option/);
    bad({ thresholds: { pass: 60, marginal: 70 } }, 'thresholds.marginal', /above thresholds.pass/);
    bad({ thresholds: { pass: 150 } }, 'thresholds.pass', /thresholds.pass/);
    bad({ metrics: { tool_errors: { alpha: 0 } } }, 'metrics.tool_errors.alpha', /alpha/);
    bad({ metrics: { probes: { criticality: 'sometimes' } } }, 'metrics.probes.criticality', /criticality/);
    bad({ extra: 1 }, 'extra', /unknown option "extra"/);
  });
});

describe('samples from the proxy metrics', () => {
  it('reads per-tool calls, failures and latency between two scrapes of the real proxy registry', async () => {
    const metrics = new ProxyMetrics({ lanes: () => [] });
    const meter = metrics.meter('green');
    meter.toolCall('verify', 'ok', 0.02);
    meter.request(200, 0.02);
    const before = parsePromText(await metrics.text());
    for (let i = 0; i < 8; i++) meter.toolCall('verify', 'ok', 0.03);
    meter.toolCall('verify', 'tool_error', 0.03);
    meter.toolCall('verify', 'rpc_error', 0.003);
    meter.toolCall('verify', 'aborted', undefined);
    meter.toolCall('report', 'http_error', 0.001);
    for (let i = 0; i < 11; i++) meter.request(200, 0.02);
    meter.request(502, 0.001);
    metrics.meter('blue').toolCall('verify', 'ok', 5);
    const after = parsePromText(await metrics.text());

    const sample = laneSampleFromScrapes(before, after, 'green');
    expect(sample.requests).toBe(12);
    expect(sample.transportErrors).toBe(1);
    expect(Object.keys(sample.tools)).toEqual(['report', 'verify']);
    expect(sample.tools.verify).toMatchObject({ calls: 10, errors: 2 });
    expect(sample.tools.report).toMatchObject({ calls: 1, errors: 1 });
    const points = sample.tools.verify!.latency!.points.filter((p) => p.count > 0);
    expect(points).toEqual([
      { value: 0.005, count: 1 },
      { value: 0.05, count: 9 },
    ]);
    // a restarted proxy (counters back near zero) counts the later values as the increase
    const restarted = laneSampleFromScrapes(after, before, 'green');
    expect(restarted.tools.verify).toMatchObject({ calls: 1, errors: 0 });
  });
});
