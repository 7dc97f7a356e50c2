import { bucketIncrease, counterIncrease, histogramBuckets, sumSeries, type Bucket, type PromSample } from '../parse-prom.js';
import { distributionFromBuckets } from './distribution.js';
import type { LaneSample, ToolSample } from './samples.js';

/** The proxy's series the analysis reads (its /metrics; names as the proxy room registers them). */
export interface ProxySeriesNames {
  readonly requests: string;
  readonly toolCalls: string;
  readonly toolDuration: string;
}

export const PROXY_SERIES: ProxySeriesNames = {
  requests: 'wvo_proxy_requests_total',
  toolCalls: 'wvo_proxy_tool_calls_total',
  toolDuration: 'wvo_proxy_tool_call_duration_seconds',
};

/** Outcomes that are the lane's failure; `aborted` (the client left) and `unknown` are neither. */
const FAILED = new Set(['http_error', 'rpc_error', 'tool_error']);

/**
 * One lane's traffic between two scrapes of the proxy's /metrics (both parsed with
 * `parsePromText`): per tool the calls, failed calls and the latency histogram's increase, and
 * the lane's requests and transport errors. Counter resets count as Prometheus' increase() does.
 */
export function laneSampleFromScrapes(
  before: readonly PromSample[],
  after: readonly PromSample[],
  lane: string,
  names: ProxySeriesNames = PROXY_SERIES,
): Omit<LaneSample, 'workers'> {
  const increase = (name: string, filter: Parameters<typeof sumSeries>[2]) => counterIncrease(sumSeries(before, name, filter), sumSeries(after, name, filter));
  const tools: Record<string, ToolSample> = {};
  const toolNames = new Set(after.filter((s) => s.name === names.toolCalls && s.labels.lane === lane && s.labels.tool).map((s) => s.labels.tool!));
  for (const tool of [...toolNames].sort()) {
    const onTool = { lane, tool };
    const calls = increase(names.toolCalls, { ...onTool, outcome: (o: string) => o !== 'aborted' });
    if (calls === 0) continue;
    const errors = increase(names.toolCalls, { ...onTool, outcome: (o: string) => FAILED.has(o) });
    const buckets = histogramIncrease(histogramBuckets(before, names.toolDuration, onTool), histogramBuckets(after, names.toolDuration, onTool));
    tools[tool] = { calls, errors, ...(buckets.length > 0 ? { latency: distributionFromBuckets(buckets) } : {}) };
  }
  return {
    requests: increase(names.requests, { lane }),
    transportErrors: increase(names.requests, { lane, code: (c: string) => c.startsWith('5') || c === '0' }),
    tools,
  };
}

/** A histogram's increase; after a reset (the total dropped: the proxy restarted) the later buckets are the increase. */
function histogramIncrease(before: readonly Bucket[], after: readonly Bucket[]): Bucket[] {
  const total = (buckets: readonly Bucket[]) => buckets.at(-1)?.count ?? 0;
  return total(after) < total(before) ? [...after] : bucketIncrease(before, after);
}
