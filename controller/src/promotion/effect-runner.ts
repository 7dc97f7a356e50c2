import type { DeploymentRecord } from './deployment.js';
import type { TransitionRow } from './deployment-store.js';
import type { Effect } from './effects.js';
import type { MetricsSnapshot } from './gates.js';
import type { ProbeResult } from './analysis/samples.js';

type Of<K extends Effect['kind']> = Extract<Effect, { kind: K }>;

/**
 * The I/O the reconciler needs; the executor implements it with the lanes runtime, the proxy
 * admin client and the worker's MCP tools. Every method must be idempotent (it is called again
 * after a crash). Report an effect that did not work by throwing a `WvoError` (→ rollback);
 * any other exception is treated as a crash of the controller and propagates.
 */
export interface EffectRunner {
  /** Start the candidate with DRY_RUN=0 on the live state; resolve once it is ready. */
  startCanary(effect: Of<'start_canary_lane'>, deployment: DeploymentRecord): Promise<void>;
  /** Start a kept lane again (rollback after promotion); resolve once it is ready. */
  startLane(effect: Of<'start_lane'>, deployment: DeploymentRecord): Promise<void>;
  switchProxy(effect: Of<'switch_proxy'>, deployment: DeploymentRecord): Promise<void>;
  /** Set the candidate's share of new sessions (a weighted canary step); gated like a switch. */
  setWeights(effect: Of<'set_weights'>, deployment: DeploymentRecord): Promise<void>;
  flipFlag(effect: Of<'flip_flag'>, deployment: DeploymentRecord): Promise<void>;
  revertFlag(effect: Of<'revert_flag'>, deployment: DeploymentRecord): Promise<void>;
  stopLane(effect: Of<'stop_lane'>, deployment: DeploymentRecord): Promise<void>;
  removeLane(effect: Of<'remove_lane'>, deployment: DeploymentRecord): Promise<void>;
  /** One scrape: the proxy's metrics text and both workers' orchestrator_status. */
  readMetrics(deployment: DeploymentRecord): Promise<MetricsSnapshot>;
  /** The plan's semantic probes against both lanes (none configured: []). A probe that cannot run is a failed result, not a throw. */
  runProbes?(deployment: DeploymentRecord): Promise<ProbeResult[]>;
  writePlan(deployment: DeploymentRecord, transitions: readonly TransitionRow[]): Promise<void>;
  writeWorkerManager(deployment: DeploymentRecord, transitions: readonly TransitionRow[]): Promise<void>;
}

/** Route one effect to the runner method that performs it. */
export async function performEffect(
  runner: EffectRunner,
  effect: Effect,
  deployment: DeploymentRecord,
  transitions: () => readonly TransitionRow[],
): Promise<void> {
  switch (effect.kind) {
    case 'start_canary_lane':
      return runner.startCanary(effect, deployment);
    case 'start_lane':
      return runner.startLane(effect, deployment);
    case 'switch_proxy':
      return runner.switchProxy(effect, deployment);
    case 'set_weights':
      return runner.setWeights(effect, deployment);
    case 'flip_flag':
      return runner.flipFlag(effect, deployment);
    case 'revert_flag':
      return runner.revertFlag(effect, deployment);
    case 'stop_lane':
      return runner.stopLane(effect, deployment);
    case 'remove_lane':
      return runner.removeLane(effect, deployment);
    case 'write_plan':
      return runner.writePlan(deployment, transitions());
    case 'write_worker_manager':
      return runner.writeWorkerManager(deployment, transitions());
  }
}
