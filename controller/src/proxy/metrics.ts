import { Counter, Histogram, Registry } from 'prom-client';
import { metricsOn } from '../../../common/src/metric-factory.js';
import type { ToolOutcome } from './tool-call.js';

/** Distinct tool labels kept per lane; tool names come from clients, so the rest share one label. */
export const MAX_TOOLS_PER_LANE = 100;
export const OTHER_TOOLS = '_other';

/** One tool's label children on one lane. */
interface ToolSeries {
  readonly label: string;
  readonly latency: Histogram.Internal<'lane' | 'tool'>;
  readonly outcomes: Map<ToolOutcome, Counter.Internal>;
}

/** Per-lane figures the promotion gates read (error rate, p95) and Prometheus scrapes. */
export interface LaneMetricsSource {
  lanes(): Array<{ name: string; healthy: boolean; active: boolean; weight: number; sessions: number; inflight: number }>;
}

/** Cached label children so the hot path never builds label objects. */
export class LaneMeter {
  private readonly byStatus = new Map<number, Counter.Internal>();
  private readonly tools = new Map<string, ToolSeries>();
  constructor(
    private readonly metrics: ProxyMetrics,
    readonly lane: string,
    readonly latency: Histogram.Internal<'lane'>,
  ) {}

  request(status: number, seconds: number | undefined): void {
    let counter = this.byStatus.get(status);
    if (!counter) {
      counter = this.metrics.requests.labels(this.lane, String(status));
      this.byStatus.set(status, counter);
    }
    counter.inc();
    if (seconds !== undefined) this.latency.observe(seconds);
  }

  /** One finished `tools/call`: its outcome, and its latency unless the client gave up on it. */
  toolCall(tool: string, outcome: ToolOutcome, seconds: number | undefined): void {
    const series = this.tools.get(tool) ?? this.newTool(tool);
    let counter = series.outcomes.get(outcome);
    if (!counter) {
      counter = this.metrics.toolCalls.labels(this.lane, series.label, outcome);
      series.outcomes.set(outcome, counter);
    }
    counter.inc();
    if (seconds !== undefined && outcome !== 'aborted') series.latency.observe(seconds);
  }

  private newTool(tool: string): ToolSeries {
    // Past the cap, unseen names share the `_other` series (and are not remembered one by one).
    const label = this.tools.size < MAX_TOOLS_PER_LANE ? tool : OTHER_TOOLS;
    const existing = this.tools.get(label);
    if (existing) return existing;
    const series: ToolSeries = { label, latency: this.metrics.toolLatency.labels(this.lane, label), outcomes: new Map() };
    this.tools.set(label, series);
    return series;
  }
}

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'lane' | 'code'>;
  readonly latency: Histogram<'lane'>;
  readonly switches: Counter<'from' | 'to' | 'mode'>;
  readonly sessionMoves: Counter<'from' | 'to' | 'result'>;
  readonly sessionExpiries: Counter<'lane'>;
  readonly movesDeferred: Counter<'lane'>;
  readonly movesForced: Counter<'lane' | 'reason'>;
  readonly upstreamErrors: Counter<'lane' | 'kind'>;
  readonly clientAborts: Counter<'lane'>;
  readonly toolCalls: Counter<'lane' | 'tool' | 'outcome'>;
  readonly toolLatency: Histogram<'lane' | 'tool'>;
  private readonly meters = new Map<string, LaneMeter>();

  constructor(source: LaneMetricsSource) {
    const metric = metricsOn(this.registry);
    this.requests = metric.counter('wvo_proxy_requests_total', 'Requests forwarded, by lane and response status (0 = no response).', ['lane', 'code']);
    this.latency = metric.histogram('wvo_proxy_request_duration_seconds', 'Time from request received to response end (POST/DELETE; GET streams excluded), by lane.', ['lane']);
    this.switches = metric.counter('wvo_proxy_switches_total', 'Active lane switches.', ['from', 'to', 'mode']);
    this.sessionMoves = metric.counter('wvo_proxy_session_moves_total', 'Sessions re-initialized on another lane.', ['from', 'to', 'result']);
    this.sessionExpiries = metric.counter('wvo_proxy_session_expiries_total', 'Sessions answered 404 because their lane stopped serving them (policy expire).', ['lane']);
    this.movesDeferred = metric.counter('wvo_proxy_session_moves_deferred_total', 'Sessions due to leave a lane that waited for a quiet moment (POST or server request in flight), by the lane left.', ['lane']);
    this.movesForced = metric.counter('wvo_proxy_session_moves_forced_total', 'Sessions moved (or expired) with work still in flight: the move grace ran out (cap) or their lane was unhealthy.', ['lane', 'reason']);
    this.upstreamErrors = metric.counter('wvo_proxy_upstream_errors_total', 'Upstream failures (connect, timeout, reset), by lane.', ['lane', 'kind']);
    this.clientAborts = metric.counter('wvo_proxy_client_aborts_total', 'Requests whose client went away before the response ended (upstream aborted).', ['lane']);
    this.toolCalls = metric.counter('wvo_proxy_tool_calls_total', 'Finished tools/call requests by lane, tool and outcome (ok, tool_error = result.isError, rpc_error = JSON-RPC error, http_error, aborted, unknown).', ['lane', 'tool', 'outcome']);
    this.toolLatency = metric.histogram('wvo_proxy_tool_call_duration_seconds', 'tools/call time from request received to response end, by lane and tool (client aborts excluded).', ['lane', 'tool']);
    const lanesGauge = (name: string, help: string, pick: (l: ReturnType<LaneMetricsSource['lanes']>[number]) => number) =>
      metric.gauge(name, help, ['lane'], function () {
        this.reset();
        for (const lane of source.lanes()) this.labels(lane.name).set(pick(lane));
      });
    lanesGauge('wvo_proxy_sessions_open', 'Sessions pinned to each lane.', (l) => l.sessions);
    lanesGauge('wvo_proxy_inflight', 'Requests and streams in flight to each lane.', (l) => l.inflight);
    lanesGauge('wvo_proxy_lane_healthy', '1 when the lane answers its readiness check.', (l) => (l.healthy ? 1 : 0));
    lanesGauge('wvo_proxy_lane_active', '1 for the active lane.', (l) => (l.active ? 1 : 0));
    lanesGauge('wvo_proxy_lane_weight', 'Share (percent) of new sessions and session-less calls each lane takes.', (l) => l.weight);
  }

  meter(lane: string): LaneMeter {
    let meter = this.meters.get(lane);
    if (!meter) {
      meter = new LaneMeter(this, lane, this.latency.labels(lane));
      this.meters.set(lane, meter);
    }
    return meter;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
