import { Registry, type Counter, type Gauge, type Histogram } from 'prom-client';
import { metricsOn } from '../../../common/src/metric-factory.js';
import { DEPLOYMENT_STATES, type DeploymentState } from '../promotion/index.js';

/** Where the deployments-by-state gauge reads from at scrape time (the controller database). */
export type DeploymentCounts = () => Partial<Record<DeploymentState, number>>;

/** The last harness run's reported diff count (state/analytics/upgrade_shadow.json), if any. */
export type ShadowDiffCount = () => Promise<number | undefined>;

/** Recorded upgrade runs in a row (newest first) that ended with shadow differences. */
export type ShadowDiffStreak = () => number;

/**
 * The controller's own registry (never prom-client's global one, so tests and several servers in
 * one process do not collide): upgrades by outcome, deployments by state, API requests, SSE clients.
 */
export class ControllerMetrics {
  readonly registry = new Registry();
  readonly upgrades: Counter<'outcome'>;
  readonly upgradeRunning: Gauge;
  readonly requests: Counter<'method' | 'route' | 'code'>;
  readonly requestDuration: Histogram<'route'>;
  readonly sseClients: Gauge;

  constructor(
    deploymentCounts: DeploymentCounts = () => ({}),
    shadowDiffCount: ShadowDiffCount = async () => undefined,
    shadowDiffStreak: ShadowDiffStreak = () => 0,
  ) {
    const metric = metricsOn(this.registry);
    this.upgrades = metric.counter('wvo_controller_upgrades_total', 'Upgrades run by this controller, by outcome (passed, warnings, failed)', ['outcome']);
    this.upgradeRunning = metric.gauge('wvo_controller_upgrade_running', '1 while an upgrade started through the API is running');
    metric.gauge('wvo_controller_deployments', 'Deployments in controller.db by state', ['state'], function () {
      const counts = deploymentCounts();
      for (const state of DEPLOYMENT_STATES) this.set({ state }, counts[state] ?? 0);
    });
    metric.gauge('wvo_controller_shadow_diffs', 'Shadow differences reported by the last upgrade run (upgrade_shadow.json count; -1 before any run)', [], async function () {
      this.set((await shadowDiffCount()) ?? -1);
    });
    metric.gauge('wvo_shadow_diff_consecutive_runs', 'Recorded upgrade runs in a row (newest first; CLI and API alike, from controller.db) that ended with shadow differences', [], function () {
      this.set(shadowDiffStreak());
    });
    this.requests = metric.counter('wvo_controller_api_requests_total', 'Controller API requests by method, route pattern and status code', ['method', 'route', 'code']);
    this.requestDuration = metric.histogram('wvo_controller_api_request_duration_seconds', 'Controller API request latency by route pattern', ['route'], [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]);
    this.sseClients = metric.gauge('wvo_controller_sse_clients', 'Open GET /events streams');
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
