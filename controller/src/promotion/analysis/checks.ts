import type { AnalysisConfig, Criticality, MetricName } from './config.js';
import { quantile, sampleSize } from './distribution.js';
import { MIN_SHIFT_TOOLS, scaleDistribution, type LaneShift } from './lane-shift.js';
import { mannWhitneyU } from './mann-whitney.js';
import { compareProportions } from './proportions.js';
import type { LaneSample, ProbeResult, ToolSample } from './samples.js';

/** One metric's verdict for the interval. `insufficient` is neither pass nor fail: it is not scored. */
export const CHECK_VERDICTS = ['pass', 'fail', 'insufficient'] as const;
export type CheckVerdict = (typeof CHECK_VERDICTS)[number];

export interface MetricCheck {
  readonly metric: MetricName;
  /** The tool or probe the check is about. */
  readonly subject?: string;
  readonly verdict: CheckVerdict;
  readonly criticality: Criticality;
  readonly weight: number;
  /** One human sentence: what was compared and what came out. */
  readonly reason: string;
  readonly candidate?: number;
  readonly baseline?: number;
  readonly pValue?: number;
  /** Median ratio (latency), rate difference (errors), or difference (worker measures). */
  readonly effect?: number;
}

type Metrics = AnalysisConfig['metrics'];

const ms = (seconds: number) => `${(seconds * 1000).toFixed(1)} ms`;
const pct = (rate: number) => `${(rate * 100).toFixed(1)}%`;
const p = (value: number) => (value < 0.001 ? value.toExponential(1) : value.toFixed(3));

function check(metric: MetricName, config: { criticality: Criticality; weight: number }, rest: Omit<MetricCheck, 'metric' | 'criticality' | 'weight'>): MetricCheck {
  return { metric, criticality: config.criticality, weight: config.weight, ...rest };
}

/**
 * One tool's latency, candidate vs baseline. With `shift` (the candidate lane's common slowdown,
 * laneShift), the candidate's timings are divided by it first: the tool fails only when it is
 * slower than the rest of its own lane is. Only slowdowns are taken out (factor ≥ 1): a lane that
 * ran faster is compared as it is. Without a shift (fewer than MIN_SHIFT_TOOLS timed tools) the
 * tool is not judged.
 */
export function toolLatencyCheck(
  tool: string,
  candidate: ToolSample | undefined,
  baseline: ToolSample | undefined,
  config: Metrics['tool_latency'],
  shift?: LaneShift,
): MetricCheck {
  const c = candidate?.latency;
  const b = baseline?.latency;
  const nc = c ? sampleSize(c) : 0;
  const nb = b ? sampleSize(b) : 0;
  if (!c || !b || nc < config.minSamples || nb < config.minSamples) {
    return check('tool_latency', config, {
      subject: tool,
      verdict: 'insufficient',
      reason: `tool ${tool} latency: ${nc} candidate / ${nb} baseline timed calls, need ${config.minSamples} on each`,
      // Not judged, but the medians are still shown (the status page charts them).
      ...(c && nc > 0 ? { candidate: quantile(c, 0.5)! } : {}),
      ...(b && nb > 0 ? { baseline: quantile(b, 0.5)! } : {}),
    });
  }
  if (!shift) {
    // One tool cannot be told from its lane: a busy core or a cold JIT would read as a regression.
    return check('tool_latency', config, {
      subject: tool,
      verdict: 'insufficient',
      reason: `tool ${tool} latency not judged: fewer than ${MIN_SHIFT_TOOLS} tools timed on both lanes, so a slowdown of this tool cannot be told from one of the whole lane`,
      candidate: quantile(c, 0.5)!,
      baseline: quantile(b, 0.5)!,
    });
  }
  const factor = shift.factor > 1 ? shift.factor : 1;
  const adjusted = factor > 1 ? scaleDistribution(c, factor) : c;
  const test = mannWhitneyU(adjusted, b, 'greater')!;
  const medianC = quantile(c, 0.5)!;
  const medianB = quantile(b, 0.5)!;
  const ratio = medianB > 0 ? medianC / medianB / factor : medianC > 0 ? Infinity : 1;
  const deltaMs = (medianC / factor - medianB) * 1000;
  const slower = test.pValue < config.alpha && ratio > config.maxRatio && deltaMs > config.minDeltaMs;
  const lane = factor > 1 ? `; the candidate lane ran ×${factor.toFixed(2)} slower on ${shift.tools.join(', ')}, taken out` : '';
  const figures = `median ${ms(medianC)} vs ${ms(medianB)}, p=${p(test.pValue)}, rank-biserial ${test.rankBiserial.toFixed(2)}, n=${nc}/${nb}${lane}`;
  return check('tool_latency', config, {
    subject: tool,
    verdict: slower ? 'fail' : 'pass',
    reason: slower
      ? `tool ${tool} is ${ratio.toFixed(1)}× slower on the candidate (${figures}; allowed ×${config.maxRatio})`
      : `tool ${tool} latency ×${ratio.toFixed(2)} (${figures})`,
    candidate: medianC,
    baseline: medianB,
    pValue: test.pValue,
    effect: ratio,
  });
}

function errorRateCheck(
  metric: 'tool_errors' | 'transport_errors',
  subject: string | undefined,
  what: string,
  candidate: { events: number; trials: number } | undefined,
  baseline: { events: number; trials: number } | undefined,
  config: Metrics['tool_errors'],
): MetricCheck {
  const nc = candidate?.trials ?? 0;
  const nb = baseline?.trials ?? 0;
  const at = subject === undefined ? {} : { subject };
  if (!candidate || !baseline || nc < config.minSamples || nb < config.minSamples) {
    return check(metric, config, { ...at, verdict: 'insufficient', reason: `${what}: ${nc} candidate / ${nb} baseline calls, need ${config.minSamples} on each` });
  }
  const test = compareProportions(candidate, baseline)!;
  const worse = test.pValue < config.alpha && test.difference > config.maxIncrease;
  const figures = `${pct(test.candidateRate)} on the candidate vs ${pct(test.baselineRate)} on the baseline (${candidate.events}/${nc} vs ${baseline.events}/${nb}, p=${p(test.pValue)}, ${test.method})`;
  return check(metric, config, {
    ...at,
    verdict: worse ? 'fail' : 'pass',
    reason: worse ? `${what} ${figures}; allowed +${pct(config.maxIncrease)}` : `${what} ${figures}`,
    candidate: test.candidateRate,
    baseline: test.baselineRate,
    pValue: test.pValue,
    effect: test.difference,
  });
}

export function toolErrorsCheck(tool: string, candidate: ToolSample | undefined, baseline: ToolSample | undefined, config: Metrics['tool_errors']): MetricCheck {
  const counts = (s: ToolSample | undefined) => (s ? { events: s.errors, trials: s.calls } : undefined);
  return errorRateCheck('tool_errors', tool, `tool ${tool} errors`, counts(candidate), counts(baseline), config);
}

export function transportErrorsCheck(candidate: LaneSample, baseline: LaneSample, config: Metrics['transport_errors']): MetricCheck {
  const counts = (s: LaneSample) => (s.requests === undefined ? undefined : { events: s.transportErrors ?? 0, trials: s.requests });
  return errorRateCheck('transport_errors', undefined, 'transport errors (5xx, no answer)', counts(candidate), counts(baseline), config);
}

function differenceCheck(
  metric: 'token_pressure' | 'critic_failures',
  what: string,
  candidate: number | undefined,
  baseline: number | undefined,
  limit: number,
  config: { criticality: Criticality; weight: number },
): MetricCheck {
  if (candidate === undefined || baseline === undefined) {
    return check(metric, config, { verdict: 'insufficient', reason: `${what}: not reported by the ${candidate === undefined ? 'candidate' : 'baseline'}` });
  }
  const difference = candidate - baseline;
  const worse = difference > limit;
  return check(metric, config, {
    verdict: worse ? 'fail' : 'pass',
    reason: `${what} ${round(candidate)} on the candidate vs ${round(baseline)} on the baseline (${difference >= 0 ? '+' : ''}${round(difference)}, allowed +${limit})`,
    candidate,
    baseline,
    effect: difference,
  });
}

const round = (n: number) => Number(n.toFixed(3));

export function tokenPressureCheck(candidate: LaneSample, baseline: LaneSample, config: Metrics['token_pressure']): MetricCheck {
  return differenceCheck('token_pressure', 'token pressure', candidate.workers?.tokenPressure, baseline.workers?.tokenPressure, config.maxIncrease, config);
}

export function criticFailuresCheck(candidate: LaneSample, baseline: LaneSample, config: Metrics['critic_failures']): MetricCheck {
  return differenceCheck('critic_failures', 'new critic failures', candidate.workers?.newCriticFailures, baseline.workers?.newCriticFailures, config.maxIncrease, config);
}

export function queueDriftCheck(candidate: LaneSample, baseline: LaneSample, config: Metrics['queue_drift']): MetricCheck {
  const c = candidate.workers?.queue;
  const b = baseline.workers?.queue;
  if (!c || !b) return check('queue_drift', config, { verdict: 'insufficient', reason: `queue drift: no queue counts from the ${c ? 'baseline' : 'candidate'}` });
  let worst = 0;
  let worstKey = '';
  for (const key of new Set([...Object.keys(c), ...Object.keys(b)])) {
    const drift = Math.abs((c[key] ?? 0) - (b[key] ?? 0));
    if (drift > worst) [worst, worstKey] = [drift, key];
  }
  const worse = worst > config.maxDrift;
  return check('queue_drift', config, {
    verdict: worse ? 'fail' : 'pass',
    reason: `queue drift ${worst}${worstKey ? ` (${worstKey}: ${c[worstKey] ?? 0} vs ${b[worstKey] ?? 0})` : ''}, allowed ${config.maxDrift}`,
    effect: worst,
  });
}

/** One check per probe name: failed on the candidate → fail, whatever the baseline did (said in the reason). */
export function probeChecks(probes: readonly ProbeResult[], config: Metrics['probes']): MetricCheck[] {
  const names = [...new Set(probes.map((r) => r.name))].sort();
  return names.map((name) => {
    const onCandidate = probes.filter((r) => r.name === name && r.lane === 'candidate');
    const baselineFailed = probes.some((r) => r.name === name && r.lane === 'baseline' && !r.ok);
    if (onCandidate.length === 0) return check('probes', config, { subject: name, verdict: 'insufficient', reason: `probe ${name} did not run on the candidate` });
    const failed = onCandidate.find((r) => !r.ok);
    if (!failed) return check('probes', config, { subject: name, verdict: 'pass', reason: `probe ${name} passed on the candidate` });
    return check('probes', config, {
      subject: name,
      verdict: 'fail',
      reason: `probe ${name} failed on the candidate${failed.reason ? `: ${failed.reason}` : ''}${baselineFailed ? ' (it fails on the baseline too)' : ''}`,
    });
  });
}
