import type { Clock } from '../../../common/src/clock.js';
import { silentLogger, type Logger } from '../../../common/src/logger.js';
import { isPidAlive } from '../../../common/src/process-alive.js';
import {
  Reconciler,
  buildPromotionPlan,
  isSettled,
  judgeLease,
  parseDuration,
  parsePromotionOptions,
  type DeploymentRecord,
  type DeploymentStore,
  type EffectRunner,
  type PromotionOptions,
} from '../promotion/index.js';
import type { ProxyAdminClient } from '../proxy/index.js';
import type { LaneRuntime, LaneApp } from '../runtime/index.js';
import { parseResumeOptions, parseRollbackOptions } from './deploy-options.js';
import { DriverLease, newLeaseHolder, ttlOf, type DriverLeaseOptions } from './driver-lease.js';
import type { PromotionFunctions } from './promotion-functions.js';
import { operationsErrors } from './errors.js';
import { commonErrors } from '../../../common/src/common-errors.js';
import { requireCleanSoak, type SoakStore } from '../soak/index.js';

/** What a promotion asks the proxy before it begins (the active lane) and for `status`. */
export type ProxyLanes = Pick<ProxyAdminClient, 'lanes'>;

export interface DeployOperationsDeps {
  store: DeploymentStore;
  runner: EffectRunner;
  proxy: ProxyLanes;
  /** The candidate image must exist before a promotion begins. */
  runtime: Pick<LaneRuntime, 'ensureImage'> & Partial<Pick<LaneRuntime, 'getLane'>>;
  /** An app by name (wvo.config.json `apps`): the candidate image is checked as the baseline lane's app runs it. */
  apps?: (name: string) => LaneApp | undefined;
  clock: Clock;
  logger?: Logger;
  /** Deployment ids (default: time-based run ids). */
  newId?: () => string;
  /** Needed when a plan flips flags (the workers' WVO_ADMIN_TOKEN). */
  workerToken?: string;
  /** Retry pause of a rollback whose effects failed (default 1 s). */
  rollbackRetryMs?: number;
  /** The drivers' lease on a deployment (default 15 s, renewed every third of it). */
  leaseTtlMs?: number;
  /** The soaks of controller.db (`--require-soak`): opened on first use. */
  soaks?: () => SoakStore;
  signal?: AbortSignal;
}

export interface BegunDeployment {
  /** As persisted when accepted (state `shadowed`). */
  deployment: DeploymentRecord;
  /** Settles when it is promoted or rolled back; rejects when the controller "crashes" (non-coded error). */
  done: Promise<DeploymentRecord>;
}

export interface DeployStatus {
  running: DeploymentRecord | null;
  deployments: DeploymentRecord[];
  proxy: Awaited<ReturnType<ProxyAdminClient['lanes']>> | { error: string };
}

/**
 * `wvo promote|rollback|resume` and the controller API's promote/rollback: the same functions,
 * the same options types. Every refusal (no staged upgrade, tests skipped, one at a time, proxy
 * not routing to the baseline, candidate image missing, no worker token for flags) is thrown
 * before a deployment record exists, so a refused call changes nothing.
 */
export class DeployOperations {
  /** Drives promotions begun here. */
  readonly reconciler: Reconciler;
  private readonly log: Logger;

  constructor(private readonly deps: DeployOperationsDeps) {
    this.log = deps.logger ?? silentLogger();
    this.reconciler = this.newReconciler();
  }

  /**
   * Rollback and resume get a reconciler of their own, like a second controller: the promotion's
   * driver then sees the record advanced by someone else and stops, instead of re-issuing the
   * same rollback effects concurrently.
   */
  private newReconciler(): Reconciler {
    const { deps } = this;
    return new Reconciler({
      store: deps.store,
      runner: deps.runner,
      clock: deps.clock,
      logger: this.log,
      ...(deps.newId ? { newId: deps.newId } : {}),
      ...(deps.rollbackRetryMs !== undefined ? { rollbackRetryMs: deps.rollbackRetryMs } : {}),
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
  }

  /** Validate and persist a deployment, then drive it in the background. */
  async begin(input: unknown): Promise<BegunDeployment> {
    // `requireSoak` is checked here, before the plan: the promotion options themselves do not carry it.
    const { requireSoak, ...rest } = (input ?? {}) as Record<string, unknown>;
    const options = parsePromotionOptions(rest);
    await this.housekeeping();
    if (!this.deps.store.running()) {
      if (requireSoak !== undefined) this.requireSoak(options.upgradeId, requireSoak);
      await this.precheck(options);
    }
    const holder = newLeaseHolder();
    // WVO_PROMOTION_IN_PROGRESS by the store's unique index; the lease is written with the record.
    const deployment = this.reconciler.start(options, { holder, ttlMs: ttlOf(this.leaseOptions()) });
    const lease = DriverLease.adopt(this.leaseOptions(), deployment.id, holder);
    const done = this.reconciler
      .apply(deployment.id, { type: 'start' })
      .then(() => this.reconciler.drive(deployment.id))
      .then((record) => this.settled(record))
      // --keep-warm: the promotion finishes when the old lane stops (or a rollback takes over).
      .then((record) => (record.state === 'promoted' && record.warmUntil !== null ? this.reconciler.keepWarm(record.id) : record))
      .then((record) => this.settled(record))
      .finally(() => lease.release());
    done.catch(() => undefined);
    return { deployment, done };
  }

  /** Take the lease on `id` for a new driver (refused with WVO_DEPLOYMENT_OWNED while a live one holds it). */
  private lease(id: string, force = false): DriverLease {
    return DriverLease.acquire(this.leaseOptions(), id, newLeaseHolder(), force);
  }

  private leaseOptions(): DriverLeaseOptions {
    const { store, clock, leaseTtlMs } = this.deps;
    return { store, clock, log: this.log, ...(leaseTtlMs !== undefined ? { ttlMs: leaseTtlMs } : {}) };
  }

  private async leased<T>(id: string, force: boolean, work: () => Promise<T>): Promise<T> {
    this.deps.store.get(id); // WVO_DEPLOYMENT_NOT_FOUND before any lease row is written
    const lease = this.lease(id, force);
    try {
      return await work();
    } finally {
      lease.release();
    }
  }

  /** `wvo promote`: begin, then wait until promoted or rolled back. */
  async promote(input: unknown): Promise<DeploymentRecord> {
    return (await this.begin(input)).done;
  }

  /**
   * `wvo rollback [<id>]`: the running deployment, else the newest promoted one. It takes the
   * lease over from a live driver: an operator's rollback outranks a running promote.
   */
  async rollback(input: unknown): Promise<DeploymentRecord> {
    const options = parseRollbackOptions(input);
    const reconciler = this.newReconciler();
    const target = reconciler.rollbackTarget(options.id);
    return this.leased(target, true, () => reconciler.rollback(options.reason, target));
  }

  /**
   * `wvo resume [<id>]`: continue or roll back what a dead controller left running. Refused
   * (WVO_DEPLOYMENT_OWNED) while its driver is alive: its lease is fresh and, on this host, its
   * pid still runs.
   */
  async resume(input: unknown): Promise<DeploymentRecord | undefined> {
    const { id } = parseResumeOptions(input);
    const reconciler = this.newReconciler();
    const target = id ?? this.deps.store.running()?.id;
    if (!target) return reconciler.resume(undefined);
    return this.leased(target, false, () => reconciler.resume(target));
  }

  async status(): Promise<DeployStatus> {
    const proxy = await this.deps.proxy.lanes().catch((error: unknown) => ({ error: (error as Error).message }));
    return { running: this.deps.store.running() ?? null, deployments: this.deps.store.list(10), proxy };
  }

  /** The controller API's promotion seam (api/promotion-functions.ts). */
  promotionFunctions(): PromotionFunctions {
    return {
      promote: (options) => this.begin(options),
      rollback: async ({ id, reason }) => ({ deployment: await this.rollback({ id, reason }) }),
      resume: (id) => this.resume({ id }),
      housekeeping: () => this.housekeeping(),
    };
  }

  /** `--require-soak D`: refused with WVO_SOAK_REQUIRED unless this upgrade soaked clean for D. */
  private requireSoak(upgradeId: string | undefined, value: unknown): void {
    const ms = parseDuration(value as string | number, 'requireSoak');
    const upgrade = this.deps.store.getUpgrade(upgradeId);
    if (!this.deps.soaks) throw commonErrors.create('WVO_INTERNAL', 'this control plane was opened without the soak store', { subject: 'soaks' });
    requireCleanSoak(this.deps.soaks(), upgrade.id, ms);
  }

  private async precheck(options: PromotionOptions): Promise<void> {
    const upgrade = this.deps.store.getUpgrade(options.upgradeId);
    const plan = buildPromotionPlan(upgrade, options); // the plan's own refusals, before any I/O
    if (plan.flags.length > 0 && !this.deps.workerToken) {
      throw operationsErrors.create('WVO_DEPLOY_WORKER_TOKEN_MISSING', `the plan flips ${plan.flags.map((f) => f.name).join(', ')} but no worker admin token is set`, {
        subject: 'WVO_ADMIN_TOKEN',
        hint: 'set WVO_ADMIN_TOKEN for the controller and the lanes, or promote without --flags',
      });
    }
    const lanes = await this.deps.proxy.lanes();
    if (lanes.active !== plan.baseline.lane) {
      throw operationsErrors.create(
        'WVO_DEPLOY_BASELINE_NOT_ACTIVE',
        `upgrade ${upgrade.id} was staged against ${plan.baseline.lane}, but the proxy routes to ${lanes.active ?? 'no lane'}`,
        {
          subject: plan.baseline.lane,
          hint: 'run `wvo upgrade` again against the lane that serves now',
          details: { active: lanes.active, baseline: plan.baseline.lane, candidate: plan.candidate.lane },
        },
      );
    }
    const appName = (await this.deps.runtime.getLane?.(plan.baseline.lane).catch(() => undefined))?.app;
    const app = appName ? this.deps.apps?.(appName) : undefined;
    await this.deps.runtime.ensureImage(plan.candidate.image, app ? { app } : {}); // WVO_IMAGE_NOT_FOUND (e.g. a removed local stage)
  }

  /**
   * A driver that stepped aside (another reconciler advanced the deployment, e.g. `rollback`) returns
   * an unsettled record: wait, bounded, for the other one to settle it.
   */
  private async settled(record: DeploymentRecord, timeoutMs = 120_000): Promise<DeploymentRecord> {
    const deadline = this.deps.clock.now() + timeoutMs;
    let current = record;
    while (!isSettled(current.state) && this.deps.clock.now() < deadline) {
      await this.deps.clock.sleep(50);
      current = this.deps.store.get(record.id);
    }
    return current;
  }

  /**
   * Close keep-warm windows and retention periods that ended with no controller waiting on them
   * (its promoter died): stop or remove those old lanes. Run before every promote and on each
   * `wvo serve` tick. A deployment a live driver still holds is left to it.
   */
  async housekeeping(): Promise<void> {
    const probe = newLeaseHolder();
    const mayAct = (id: string) => judgeLease(this.deps.store.lease(id), probe, this.deps.clock.now(), isPidAlive).take;
    try {
      await this.reconciler.expireWarm(mayAct);
      await this.reconciler.expireRetention(mayAct);
    } catch (error) {
      this.log.warn({ err: error }, 'could not stop or remove an old lane whose window ended; continuing');
    }
  }
}
