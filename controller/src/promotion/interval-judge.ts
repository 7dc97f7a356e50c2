import type { IntervalAnalysis } from './analysis/judge.js';
import { judgeInterval } from './analysis/judge.js';
import { laneSampleFromScrapes } from './analysis/prom-input.js';
import type { LaneSample, ProbeResult, WorkerMeasures } from './analysis/samples.js';
import type { DeploymentRecord } from './deployment.js';
import type { PromotionEvent } from './events.js';
import { counterIncrease, parsePromText } from './parse-prom.js';
import { evaluateGates, readWorkerSignals, type GateResult, type MetricsSnapshot } from './gates.js';
import type { Comparison, IntervalRecord } from './interval-record.js';

/** Traffic of the baseline kept from the last interval before the switch (it takes no new sessions after it). */
export type BaselineReference = Omit<LaneSample, 'workers'>;

export interface ObservedInterval {
  readonly before: MetricsSnapshot;
  readonly after: MetricsSnapshot;
  /** After the switch: the baseline's last pre-switch interval (absent after a controller restart). */
  readonly reference?: BaselineReference;
  readonly probes?: readonly ProbeResult[];
}

export interface IntervalJudgement {
  readonly event: Extract<PromotionEvent, { type: 'gate_passed' | 'gate_failed' }>;
  readonly gates: GateResult;
  readonly analysis: IntervalAnalysis;
  /** The baseline's traffic in this interval (a weighted step's; the reference for after the switch). */
  readonly baselineTraffic: BaselineReference;
}

/**
 * Judge one observed interval (pure): the absolute gates (safety net) and the candidate-vs-baseline
 * analysis. During a weighted step both lanes take new sessions, so the comparison is direct;
 * after the switch the baseline takes none, so the candidate is compared with the baseline's last
 * interval before the switch (same workload, moments earlier). That comparison is time-shifted:
 * error rates and probes keep their meaning, but on a shared machine latency moves with load from
 * one interval to the next (we measured 2–3× swings on two busy cores), so latency is recorded
 * there but not scored (report-only): comparative latency is what weighted steps are for. Worker
 * measures are read live from both lanes (they share the live database). A `fail` verdict or a
 * failed gate is a failed check; `marginal` and `insufficient` are recorded and count neither way.
 */
export function judgeObservedInterval(record: DeploymentRecord, interval: ObservedInterval, now: number): IntervalJudgement {
  const { plan } = record;
  const lanes = { candidate: plan.candidate.lane, baseline: plan.baseline.lane };
  const gates = evaluateGates(interval.before, interval.after, lanes, plan.gates);
  const prev = parsePromText(interval.before.proxyText);
  const cur = parsePromText(interval.after.proxyText);
  const candidateTraffic = laneSampleFromScrapes(prev, cur, lanes.candidate);
  const baselineTraffic = laneSampleFromScrapes(prev, cur, lanes.baseline);
  const weighted = record.state === 'weighted';
  const comparison: Comparison = weighted ? 'live' : interval.reference ? 'pre_switch' : 'none';
  const baselineSample = comparison === 'live' ? baselineTraffic : comparison === 'pre_switch' ? interval.reference! : { tools: {} };
  const config =
    comparison === 'pre_switch'
      ? { ...plan.analysis, metrics: { ...plan.analysis.metrics, tool_latency: { ...plan.analysis.metrics.tool_latency, criticality: 'report-only' as const } } }
      : plan.analysis;
  const analysis = judgeInterval(
    {
      candidate: { ...candidateTraffic, workers: workers(interval.before.candidateStatus, interval.after.candidateStatus) },
      baseline: { ...baselineSample, workers: workers(interval.before.baselineStatus, interval.after.baselineStatus) },
      probes: interval.probes ?? [],
    },
    config,
  );
  const failed = !gates.pass || analysis.verdict === 'fail';
  const reasons = [...gates.reasons, ...(analysis.verdict === 'fail' ? analysis.reasons.map((r) => `analysis: ${r}`) : [])];
  const entry: IntervalRecord = {
    at: now,
    state: weighted ? 'weighted' : 'observing',
    weight: record.observation?.weight ?? 100,
    phase: record.observation?.phase ?? 0,
    comparison,
    verdict: analysis.verdict,
    score: analysis.score,
    reasons: [...analysis.reasons],
    gates: gates.checks.every((c) => c.status === 'skipped') ? 'skipped' : gates.pass ? 'pass' : 'fail',
    checks: analysis.checks.map((c) => ({
      metric: c.metric,
      verdict: c.verdict,
      ...(c.subject === undefined ? {} : { subject: c.subject }),
      ...finite('candidate', c.candidate),
      ...finite('baseline', c.baseline),
      ...finite('pValue', c.pValue),
      ...finite('effect', c.effect),
    })),
  };
  const event = failed ? { type: 'gate_failed' as const, reasons, analysis: entry } : { type: 'gate_passed' as const, analysis: entry };
  return { event, gates, analysis, baselineTraffic };
}

/** A lane's worker measures in the interval; critic failures as the increase between the two scrapes. */
function workers(before: unknown, after: unknown): WorkerMeasures {
  const a = readWorkerSignals(after);
  const b = readWorkerSignals(before);
  return {
    ...(a.tokenPressure === undefined ? {} : { tokenPressure: a.tokenPressure }),
    ...(a.queue === undefined ? {} : { queue: a.queue }),
    ...(a.criticFailures === undefined || b.criticFailures === undefined ? {} : { newCriticFailures: counterIncrease(b.criticFailures, a.criticFailures) }),
  };
}

/** JSON has no Infinity/NaN: such figures are left out of the persisted record. */
function finite<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value !== undefined && Number.isFinite(value) ? ({ [key]: value } as Record<K, number>) : {};
}
