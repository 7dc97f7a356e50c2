import { Counter, Gauge, Histogram, Registry } from 'prom-client';
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
    const registers = [this.registry];
    this.upgrades = new Counter({
      name: 'wvo_controller_upgrades_total',
      help: 'Upgrades run by this controller, by outcome (passed, warnings, failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.upgradeRunning = new Gauge({
      name: 'wvo_controller_upgrade_running',
      help: '1 while an upgrade started through the API is running',
      registers,
    });
    new Gauge({
      name: 'wvo_controller_deployments',
      help: 'Deployments in controller.db by state',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = deploymentCounts();
        for (const state of DEPLOYMENT_STATES) this.set({ state }, counts[state] ?? 0);
      },
    });
    new Gauge({
      name: 'wvo_controller_shadow_diffs',
      help: 'Shadow differences reported by the last upgrade run (upgrade_shadow.json count; -1 before any run)',
      registers,
      async collect() {
        this.set((await shadowDiffCount()) ?? -1);
      },
    });
    new Gauge({
      name: 'wvo_shadow_diff_consecutive_runs',
      help: 'Recorded upgrade runs in a row (newest first; CLI and API alike, from controller.db) that ended with shadow differences',
      registers,
      collect() {
        this.set(shadowDiffStreak());
      },
    });
    this.requests = new Counter({
      name: 'wvo_controller_api_requests_total',
      help: 'Controller API requests by method, route pattern and status code',
      labelNames: ['method', 'route', 'code'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'wvo_controller_api_request_duration_seconds',
      help: 'Controller API request latency by route pattern',
      labelNames: ['route'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.sseClients = new Gauge({
      name: 'wvo_controller_sse_clients',
      help: 'Open GET /events streams',
      registers,
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
