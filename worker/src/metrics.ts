import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OperationsManager } from './operations/operations-manager.js';
import type { Store } from './store/store.js';
import { TASK_STATUSES } from './store/tasks.js';
import type { ToolOutcome } from './tools/registry.js';
import { LATENCY_BUCKETS_SECONDS } from '../../common/src/latency-buckets.js';

/** The worker's own registry (never the global one, so several workers can live in one process). */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly calls: Counter<'tool' | 'outcome'>;
  private readonly duration: Histogram<'tool'>;
  private readonly spawns: Counter;
  readonly sessions: Gauge;

  constructor(store: Store, operations: OperationsManager, options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.calls = new Counter({
      name: 'wvo_worker_tool_calls_total',
      help: 'MCP tool calls by tool and outcome (ok, tool_error, internal_error)',
      labelNames: ['tool', 'outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'wvo_worker_tool_duration_seconds',
      help: 'MCP tool call duration',
      labelNames: ['tool'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.spawns = new Counter({
      name: 'wvo_worker_executor_spawns_total',
      help: 'Processes the executor started (always 0 in DRY_RUN and sandbox)',
      registers,
    });
    this.sessions = new Gauge({ name: 'wvo_worker_sessions', help: 'Open MCP sessions', registers });
    new Gauge({
      name: 'wvo_worker_dry_run',
      help: '1 when this worker runs with WVO_DRY_RUN=1',
      registers,
    }).set(store.dryRun ? 1 : 0);
    new Gauge({
      name: 'wvo_worker_sandbox',
      help: '1 when this worker runs with WVO_SANDBOX=1 (commits to a private copy, replays executor runs)',
      registers,
    }).set(store.sandbox ? 1 : 0);
    // Queue-derived gauges read the store at scrape time, inside a call scope so DRY_RUN scrapes
    // never see a tool call's uncommitted writes.
    const readable = () => !store.isClosed && store.readiness().ready;
    new Gauge({
      name: 'wvo_worker_queue_depth',
      help: 'Tasks by status, plus ready (open with every dependency done)',
      labelNames: ['status'],
      registers,
      async collect() {
        if (!readable()) return;
        const { queue } = await store.callScope(async () => operations.queueStats());
        for (const status of TASK_STATUSES) this.set({ status }, queue.by_status[status]);
        this.set({ status: 'ready' }, queue.ready);
      },
    });
    new Gauge({
      name: 'wvo_worker_token_pressure_ratio',
      help: 'Prompt tokens of tasks in progress over the token budget',
      registers,
      async collect() {
        if (!readable()) return;
        this.set((await store.callScope(async () => operations.tokenPressure())).ratio);
      },
    });
    new Gauge({
      name: 'wvo_worker_critic_reputation_avg',
      help: 'Average critic reputation (0..1)',
      registers,
      async collect() {
        if (!readable()) return;
        this.set((await store.callScope(async () => operations.critics())).average_reputation);
      },
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
