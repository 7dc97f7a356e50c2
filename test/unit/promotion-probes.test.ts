import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  judgeObservedInterval,
  judgeProbe,
  parseProbes,
  parsePromotionOptions,
  type MetricsSnapshot,
  type Probe,
} from '../../controller/src/promotion/index.js';
import { recordIn } from './promotion-fixtures.js';

const subjectOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as { code: string; subject: string };
  }
  throw new Error('expected an error');
};

describe('semantic probes: declaration', () => {
  const ok = { name: 'queue', tool: 'orchestrator_status', expect: [{ path: '$.queue.total', type: 'integer' }] };

  it('parses with defaults, through the promotion options', () => {
    const [probe] = parsePromotionOptions({ probes: [ok] }).probes;
    expect(probe).toEqual({ ...ok, arguments: {}, expectError: false, timeoutMs: 5_000 });
  });

  it.each([
    ['a JSON path that does not parse', [{ ...ok, expect: [{ path: 'queue.total' }] }], 'probes[0].expect[0].path'],
    ['a bad regular expression', [{ ...ok, expect: [{ path: '$.a', matches: '(' }] }], 'probes[0].expect[0].matches'],
    ['a schema type that is not a JSON type', [{ ...ok, schema: { type: 'object', properties: { a: { type: 'numbr' } } } }], 'probes[0].schema.properties.a.type'],
    ['a schema whose required is not a list', [{ ...ok, schema: { required: 'a' } }], 'probes[0].schema.required'],
    ['an unknown field', [{ ...ok, expects: [] }], 'probes[0].expects'],
    ['an unknown expectation field', [{ ...ok, expect: [{ path: '$.a', equal: 1 }] }], 'probes[0].expect[0].equal'],
    ['a name listed twice', [ok, ok], 'probes[1].name'],
    ['a missing tool', [{ name: 'x' }], 'probes[0].tool'],
  ])('refuses %s, naming the field', (_what, probes, subject) => {
    expect(subjectOf(() => parsePromotionOptions({ probes }))).toMatchObject({ code: 'WVO_PROBE_INVALID', subject });
  });

  it('a bad analysis config is refused under analysis.*', () => {
    expect(subjectOf(() => parsePromotionOptions({ analysis: { metrics: { latency_p99: {} } } }))).toMatchObject({
      code: 'WVO_ANALYSIS_CONFIG_INVALID',
      subject: 'analysis.metrics.latency_p99',
    });
  });
});

describe('semantic probes: judging an answer', () => {
  const probe = (extra: Partial<Probe>): Probe => parseProbes([{ name: 'p', tool: 'orchestrator_status', ...extra }])[0]!;
  const status = { queue: { total: 12, by_status: { open: 7 } }, lanes: ['blue', 'green'], mode: 'auto' };

  it('passes when every expectation holds', () => {
    const p = probe({
      expect: [{ path: '$.queue.total', type: 'integer' }, { path: '$.lanes[*]', matches: '^(blue|green)$' }, { path: '$.mode', equals: 'auto' }, { path: '$.gone', exists: false }],
      schema: { type: 'object', required: ['queue'], properties: { queue: { type: 'object' } } },
    });
    expect(judgeProbe(p, { isError: false, value: status })).toEqual({ ok: true });
  });

  it('names the first unmet expectation', () => {
    expect(judgeProbe(probe({ expect: [{ path: '$.mode', equals: 'manual' }] }), { isError: false, value: status })).toEqual({ ok: false, reason: '$.mode is "auto", expected "manual"' });
    expect(judgeProbe(probe({ expect: [{ path: '$.queue.missing' }] }), { isError: false, value: status }).reason).toBe('$.queue.missing selects nothing');
    expect(judgeProbe(probe({ expect: [{ path: '$.queue.total', type: 'string' }] }), { isError: false, value: status }).reason).toMatch(/expected a string/);
    expect(judgeProbe(probe({ schema: { type: 'object', required: ['nope'] } }), { isError: false, value: status }).reason).toMatch(/schema at \$\.nope/);
    expect(judgeProbe(probe({}), { isError: true, value: { code: 'WVO_X' } }).reason).toBe('orchestrator_status answered an error (WVO_X)');
    expect(judgeProbe(probe({ expectError: true }), { isError: true, value: {} }).ok).toBe(true);
  });
});

/** A proxy registry shaped like the proxy room's: requests, per-tool calls by outcome, per-tool latency. */
function proxy() {
  const registry = new Registry();
  const requests = new Counter({ name: 'wvo_proxy_requests_total', help: 'h', labelNames: ['lane', 'code'], registers: [registry] });
  const calls = new Counter({ name: 'wvo_proxy_tool_calls_total', help: 'h', labelNames: ['lane', 'tool', 'outcome'], registers: [registry] });
  const duration = new Histogram({
    name: 'wvo_proxy_tool_call_duration_seconds',
    help: 'h',
    labelNames: ['lane', 'tool'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [registry],
  });
  return {
    serve(lane: string, tool: string, n: number, seconds: number, errorEvery = 0) {
      for (let i = 0; i < n; i++) {
        requests.inc({ lane, code: '200' });
        calls.inc({ lane, tool, outcome: errorEvery > 0 && i % errorEvery === 0 ? 'tool_error' : 'ok' });
        duration.observe({ lane, tool }, seconds * (0.8 + 0.4 * ((i * 7) % 10) / 10));
      }
    },
    async snapshot(at: number): Promise<MetricsSnapshot> {
      return { at, proxyText: await registry.metrics() };
    },
  };
}

describe('judgeObservedInterval', () => {
  it('weighted step: both lanes under the same traffic; 20 % tool errors on the candidate fail the interval', async () => {
    const p = proxy();
    const record = recordIn('weighted', { steps: '50' });
    const before = await p.snapshot(0);
    p.serve('blue', 'plan_next', 200, 0.004);
    p.serve('green', 'plan_next', 200, 0.004, 5);
    const judged = judgeObservedInterval(record, { before, after: await p.snapshot(10_000) }, 10_000);
    expect(judged.event.type).toBe('gate_failed');
    expect(judged.event.analysis).toMatchObject({ state: 'weighted', weight: 50, comparison: 'live', verdict: 'fail', score: 0, gates: 'pass' });
    expect(judged.event.type === 'gate_failed' && judged.event.reasons[0]).toMatch(/^analysis: tool plan_next errors 20\.0% on the candidate vs 0\.0%/);
    expect(judged.baselineTraffic.tools.plan_next?.calls).toBe(200);
  });

  it('weighted step: a 2× slower tool fails; the same lanes equally fast pass', async () => {
    const p = proxy();
    const record = recordIn('weighted', { steps: '50' });
    const s0 = await p.snapshot(0);
    // Two more tools, equally fast on both lanes: what tells a slow tool from a slow lane.
    for (const lane of ['blue', 'green']) for (const tool of ['plan_next', 'report']) p.serve(lane, tool, 200, 0.004);
    p.serve('blue', 'verify', 200, 0.02);
    p.serve('green', 'verify', 200, 0.04);
    const slow = judgeObservedInterval(record, { before: s0, after: await p.snapshot(1) }, 1);
    expect(slow.event.type).toBe('gate_failed');
    expect(slow.analysis.reasons[0]).toMatch(/tool verify is 2\.\d× slower on the candidate/);
    const s1 = await p.snapshot(2);
    for (const lane of ['blue', 'green']) for (const tool of ['plan_next', 'report']) p.serve(lane, tool, 200, 0.004);
    p.serve('blue', 'verify', 200, 0.02);
    p.serve('green', 'verify', 200, 0.02);
    expect(judgeObservedInterval(record, { before: s1, after: await p.snapshot(3) }, 3).event).toMatchObject({ type: 'gate_passed', analysis: { verdict: 'pass', score: 100 } });
  });

  it('after the switch: compared with the pre-switch reference; errors are judged, latency only recorded', async () => {
    const p = proxy();
    const record = recordIn('observing');
    const s0 = await p.snapshot(0);
    for (const tool of ['plan_next', 'report']) p.serve('blue', tool, 200, 0.004);
    p.serve('blue', 'verify', 200, 0.02);
    const s1 = await p.snapshot(1);
    const reference = judgeObservedInterval(recordIn('weighted', { steps: '10' }), { before: s0, after: s1 }, 1).baselineTraffic;
    // Slower than the reference a moment ago: on a shared machine that is load as often as code.
    for (const tool of ['plan_next', 'report']) p.serve('green', tool, 200, 0.004);
    p.serve('green', 'verify', 200, 0.04);
    const slow = judgeObservedInterval(record, { before: s1, after: await p.snapshot(2), reference }, 2);
    expect(slow.event).toMatchObject({ type: 'gate_passed', analysis: { comparison: 'pre_switch', verdict: 'pass' } });
    expect(slow.analysis.checks.find((c) => c.metric === 'tool_latency' && c.subject === 'verify')).toMatchObject({ verdict: 'fail', criticality: 'report-only' });
    // 20 % errors where the baseline had none: a regression whatever the load.
    const s2 = await p.snapshot(3);
    p.serve('green', 'verify', 200, 0.02, 5);
    const failing = judgeObservedInterval(record, { before: s2, after: await p.snapshot(4), reference }, 4);
    expect(failing.event).toMatchObject({ type: 'gate_failed', analysis: { comparison: 'pre_switch', verdict: 'fail' } });
  });

  it('no reference (controller restarted): insufficient, neither pass nor fail; a failed probe still fails it', async () => {
    const p = proxy();
    const record = recordIn('observing');
    const before = await p.snapshot(0);
    p.serve('green', 'verify', 200, 0.02);
    const after = await p.snapshot(1);
    const alone = judgeObservedInterval(record, { before, after }, 1);
    expect(alone.event).toMatchObject({ type: 'gate_passed', analysis: { comparison: 'none', verdict: 'insufficient' } });
    const probed = judgeObservedInterval(record, { before, after, probes: [{ name: 'queue-total', lane: 'candidate', ok: false, reason: '$.queue.total selects nothing' }] }, 1);
    expect(probed.event.type).toBe('gate_failed');
    expect(probed.event.type === 'gate_failed' && probed.event.reasons).toEqual(['analysis: probe queue-total failed on the candidate: $.queue.total selects nothing']);
  });
});
