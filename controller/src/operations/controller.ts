import { shadowDiffStreak } from './shadow-streak.js';
import { systemClock } from '../../../common/src/clock.js';
import { toErrorJson } from '../../../common/src/errors.js';
import { silentLogger } from '../../../common/src/logger.js';
import type { UpgradeContext } from '../harness/index.js';
import { DEPLOYMENT_STATES, DeploymentStore, type DeploymentState } from '../promotion/index.js';
import type { ProxyAdminClient } from '../proxy/index.js';
import { readUpgradeShadowSummary } from '../shadow/index.js';
import { ControllerMetrics } from '../telemetry/index.js';
import { createControllerOperations, type ControllerOperations } from './controller-operations.js';
import { DeploymentWatcher } from './deployment-watcher.js';
import { EventBus } from './event-bus.js';
import type { PromotionFunctions } from './promotion-functions.js';
import { ReconcileLoop } from './reconcile-loop.js';
import { UpgradeRunner } from './upgrade-runner.js';
import { registerSoakMetrics } from '../soak/index.js';
import { SoakDriver } from './soak-driver.js';

/** What the controller (`wvo serve`) runs its operations with: what `openCliContext` gives the CLI. */
export interface ControllerContext extends Pick<UpgradeContext, 'projectRoot' | 'stateRoot' | 'runtime' | 'images' | 'logger' | 'clock'> {
  /**
   * The promotion executor, or a factory given the controller's open store (`wvo serve`:
   * `(store) => wireDeploy({..., store}).operations.promotionFunctions()`). Without it
   * promote/rollback are refused with WVO_PROMOTION_UNAVAILABLE.
   */
  promotion?: PromotionFunctions | ((store: DeploymentStore) => PromotionFunctions);
  /** Prune unused staged images after each completed API upgrade (`upgradePruner`). */
  pruneStaged?: UpgradeContext['pruneStaged'];
  /** The proxy admin client: the baseline of each recorded API upgrade is its active lane. */
  proxy?: ProxyAdminClient;
}

export interface ControllerLoopOptions {
  /** How often controller.db is polled for deployment transitions (published on the bus). */
  deploymentPollMs: number;
  /** Reconcile loop period (0 = off). */
  reconcileMs: number;
}

/** The controller's operations and background loops over one controller.db connection. */
export interface Controller {
  operations: ControllerOperations;
  bus: EventBus;
  metrics: ControllerMetrics;
  store: DeploymentStore;
  /** Soaks started through the API (and orphans resumed at start). */
  soaks: SoakDriver;
  /** Publish deployment transitions (before the API listens). */
  watch(): void;
  /** Start reconciling (once the API listens). */
  reconcile(): void;
  /** Stop the loops (the watcher and the reconcile loop). */
  stopLoops(): void;
  /** Wait for a running upgrade (it removes its own lanes), then close controller.db. Not the runtime. */
  close(): Promise<void>;
}

function countByState(store: DeploymentStore): Partial<Record<DeploymentState, number>> {
  const counts: Partial<Record<DeploymentState, number>> = {};
  for (const d of store.list(10_000)) counts[d.state] = (counts[d.state] ?? 0) + 1;
  for (const state of DEPLOYMENT_STATES) counts[state] ??= 0;
  return counts;
}

/** Open controller.db and wire the controller's operations, events, metrics and loops. */
export function openController(context: ControllerContext, loops: ControllerLoopOptions): Controller {
  const logger = context.logger ?? silentLogger();
  const clock = context.clock ?? systemClock;
  const store = DeploymentStore.open(context.stateRoot);
  const bus = new EventBus();
  const metrics = new ControllerMetrics(
    () => countByState(store),
    async () => (await readUpgradeShadowSummary(context.stateRoot).catch(() => undefined))?.count,
    () => shadowDiffStreak(store.recentUpgrades(100)),
  );
  const upgrades = new UpgradeRunner({
    projectRoot: context.projectRoot,
    stateRoot: context.stateRoot,
    runtime: context.runtime,
    images: context.images,
    bus,
    metrics,
    logger,
    clock,
    store,
    ...(context.proxy ? { proxy: context.proxy } : {}),
    ...(context.pruneStaged ? { pruneStaged: context.pruneStaged } : {}),
  });
  const promotion = context.promotion ? (typeof context.promotion === 'function' ? context.promotion(store) : context.promotion) : undefined;
  const operations = createControllerOperations({
    projectRoot: context.projectRoot,
    stateRoot: context.stateRoot,
    runtime: context.runtime,
    store,
    upgrades,
    ...(context.proxy ? { proxy: context.proxy } : {}),
    ...(promotion ? { promotion } : {}),
    onPromotionError: (id, error) => {
      logger.error({ err: error, deployment: id }, 'promotion ended in an error');
      bus.publish({ type: 'deployment-error', id, error: toErrorJson(error) });
    },
    onPromotionSettled: (id, state) => bus.publish({ type: 'deployment-settled', id, state }),
  });
  const soaks = new SoakDriver({ projectRoot: context.projectRoot, stateRoot: context.stateRoot, runtime: context.runtime, logger, clock }, logger);
  registerSoakMetrics(metrics.registry, () => soaks.current());
  const watcher = new DeploymentWatcher(store, bus, loops.deploymentPollMs, logger);
  const reconcile = promotion?.resume
    ? new ReconcileLoop({
        store,
        resume: promotion.resume.bind(promotion),
        ...(promotion.housekeeping ? { housekeeping: promotion.housekeeping.bind(promotion) } : {}),
        clock,
        logger,
        intervalMs: loops.reconcileMs,
        onError: (id, error) => bus.publish({ type: 'deployment-error', id, error: toErrorJson(error) }),
      })
    : undefined;
  return {
    operations,
    bus,
    metrics,
    store,
    soaks,
    watch: () => watcher.start(),
    reconcile: () => {
      reconcile?.start();
      void soaks.resumeOrphan();
    },
    stopLoops() {
      watcher.stop();
      reconcile?.stop();
    },
    async close() {
      await upgrades.idle();
      await soaks.close();
      store.close();
    },
  };
}
