import { collectDefaultMetrics, Registry, type Counter, type Gauge, type Histogram } from 'prom-client';
import type { OperationsManager } from './operations/operations-manager.js';
import type { Store } from './store/store.js';
import { TASK_STATUSES } from './store/tasks.js';
import type { ToolOutcome } from './tools/registry.js';
import { metricsOn } from '../../common/src/metric-factory.js';

/** The worker's own registry (never the global one, so several workers can live in one process). */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly calls: Counter<'tool' | 'outcome'>;
  private readonly duration: Histogram<'tool'>;
  private readonly spawns: Counter;
  readonly sessions: Gauge;

  constructor(store: Store, operations: OperationsManager, options: { defaultMetrics?: boolean } = {}) {
    const metric = metricsOn(this.registry);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.calls = metric.counter('wvo_worker_tool_calls_total', 'MCP tool calls by tool and outcome (ok, tool_error, internal_error)', ['tool', 'outcome']);
    this.duration = metric.histogram('wvo_worker_tool_duration_seconds', 'MCP tool call duration', ['tool']);
    this.spawns = metric.counter('wvo_worker_executor_spawns_total', 'Processes the executor started (always 0 in DRY_RUN and sandbox)');
    this.sessions = metric.gauge('wvo_worker_sessions', 'Open MCP sessions');
    metric.gauge('wvo_worker_dry_run', '1 when this worker runs with WVO_DRY_RUN=1').set(store.dryRun ? 1 : 0);
    metric.gauge('wvo_worker_sandbox', '1 when this worker runs with WVO_SANDBOX=1 (commits to a private copy, replays executor runs)').set(store.sandbox ? 1 : 0);
    // Queue-derived gauges read the store at scrape time, inside a call scope so DRY_RUN scrapes
    // never see a tool call's uncommitted writes.
    const readable = () => !store.isClosed && store.readiness().ready;
    metric.gauge('wvo_worker_queue_depth', 'Tasks by status, plus ready (open with every dependency done)', ['status'], async function () {
      if (!readable()) return;
      const { queue } = await store.callScope(async () => operations.queueStats());
      for (const status of TASK_STATUSES) this.set({ status }, queue.by_status[status]);
      this.set({ status: 'ready' }, queue.ready);
    });
    metric.gauge('wvo_worker_token_pressure_ratio', 'Prompt tokens of tasks in progress over the token budget', [], async function () {
      if (!readable()) return;
      this.set((await store.callScope(async () => operations.tokenPressure())).ratio);
    });
    metric.gauge('wvo_worker_critic_reputation_avg', 'Average critic reputation (0..1)', [], async function () {
      if (!readable()) return;
      this.set((await store.callScope(async () => operations.critics())).average_reputation);
    });
  }

  observeCall(tool: string, outcome: ToolOutcome, seconds: number): void {
    this.calls.inc({ tool, outcome });
    this.duration.observe({ tool }, seconds);
  }

  countSpawn(): void {
    this.spawns.inc();
  }
}
