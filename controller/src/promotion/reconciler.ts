import type { Clock } from '../../../common/src/clock.js';
import { isWvoError } from '../../../common/src/errors.js';
import { newRunId } from '../../../common/src/ids.js';
import { silentLogger, type Logger } from '../../../common/src/logger.js';
import { newDeploymentRecord, type DeploymentRecord } from './deployment.js';
import type { DeploymentStore } from './deployment-store.js';
import { performEffect, type EffectRunner } from './effect-runner.js';
import { describeEffect, type Effect } from './effects.js';
import type { PromotionEvent } from './events.js';
import type { LeaseHolder } from './lease.js';
import type { ProbeResult } from './analysis/samples.js';
import { laneSampleFromScrapes } from './analysis/prom-input.js';
import { weightedSteps } from './canary-steps.js';
import type { MetricsSnapshot } from './gates.js';
import { judgeObservedInterval, type BaselineReference } from './interval-judge.js';
import { parsePromText } from './parse-prom.js';
import { buildPromotionPlan, type PromotionOptions } from './plan.js';
import { transition } from './state-machine.js';
import { isObserved, isSettled } from './states.js';
import { promotionErrors } from './errors.js';

export interface ReconcilerOptions {
  readonly store: DeploymentStore;
  readonly runner: EffectRunner;
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly newId?: () => string;
  /**
   * Which runner errors mean "this effect did not work" (→ rollback). Anything else is treated
   * like a controller crash: it propagates, and the persisted record is left for `resume`.
   */
  readonly isEffectFailure?: (error: unknown) => boolean;
  /** Attempts at a rollback whose effects fail before giving up with WVO_ROLLBACK_STUCK. */
  readonly rollbackAttempts?: number;
  readonly rollbackRetryMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * The thin shell around the pure machine (argo-rollouts' reconcile loop): apply an event,
 * persist the result, run its effects in order, feed the outcome back as the next event.
 * Every decision it skips is logged with the machine's reason.
 */
export class Reconciler {
  private readonly log: Logger;
  private readonly isEffectFailure: (error: unknown) => boolean;
  /** The previous scrape per deployment: gates judge the interval between two scrapes. */
  private readonly lastSample = new Map<string, MetricsSnapshot>();
  /** The version this reconciler last committed per deployment: anything else means another controller acted. */
  private readonly committed = new Map<string, number>();
  /**
   * The baseline's traffic in the last interval before the switch, per deployment: what the
   * candidate is compared with once it takes all new sessions. Kept in memory: after a controller
   * restart the analysis has no reference and the absolute gates (and probes) judge alone.
   */
  private readonly reference = new Map<string, BaselineReference>();

  constructor(private readonly o: ReconcilerOptions) {
    this.log = o.logger ?? silentLogger();
    this.isEffectFailure = o.isEffectFailure ?? isWvoError;
  }

  /**
   * Create the deployment record (state `shadowed`) for a staged upgrade, with its driver's lease
   * when given (one transaction). No side effects.
   */
  start(options: PromotionOptions, driver?: { holder: LeaseHolder; ttlMs: number }): DeploymentRecord {
    const upgrade = this.o.store.getUpgrade(options.upgradeId);
    const plan = buildPromotionPlan(upgrade, options);
    const now = this.o.clock.now();
    const id = this.o.newId?.() ?? newRunId(new Date(now));
    const lease = driver ? { ...driver.holder, acquiredAt: now, renewedAt: now, expiresAt: now + driver.ttlMs } : undefined;
    const record = this.o.store.createDeployment(newDeploymentRecord(id, plan, now), lease);
    this.log.info({ deployment: id, upgrade: upgrade.id }, 'deployment created');
    return record;
  }

  /** `wvo rollback`: the running deployment, else the newest promoted one. */
  async rollback(reason: string, id?: string): Promise<DeploymentRecord> {
    const target = this.rollbackTarget(id);
    await this.apply(target, { type: 'rollback_requested', reason });
    return this.drive(target);
  }

  /** What `rollback(reason, id)` acts on: `id`, else the running deployment, else the newest promoted one. */
  rollbackTarget(id?: string): string {
    const target = id ?? this.o.store.running()?.id ?? this.o.store.list(1).find((d) => d.state === 'promoted')?.id;
    if (!target) {
      throw promotionErrors.create('WVO_NOTHING_TO_ROLL_BACK', 'no running or promoted deployment to roll back', {
        hint: '`wvo status` lists deployments',
      });
    }
    return target;
  }

  /** `wvo resume`: finish or roll back the deployment a dead controller left running. */
  async resume(id?: string): Promise<DeploymentRecord | undefined> {
    const target = id ?? this.o.store.running()?.id;
    if (!target) {
      this.log.info('resume: no running deployment, nothing to do');
      return undefined;
    }
    this.lastSample.delete(target);
    this.reference.delete(target);
    await this.apply(target, { type: 'resume' });
    return this.drive(target);
  }

  /**
   * Remove the old lanes of promoted deployments whose retention window has ended (`mayAct`: skip
   * one another controller is still working on).
   */
  async expireRetention(mayAct: (id: string) => boolean = () => true): Promise<void> {
    const now = this.o.clock.now();
    for (const d of this.o.store.list()) {
      if (d.state === 'promoted' && !d.baselineRemoved && d.retentionEndsAt !== null && d.retentionEndsAt <= now && mayAct(d.id)) {
        await this.apply(d.id, { type: 'retention_elapsed' });
      }
    }
  }

  /**
   * Promoted with `keepWarmMs`: wait out the window (a rollback meanwhile ends it), then stop the
   * old lane. Returns the record as it stands afterwards.
   */
  async keepWarm(id: string): Promise<DeploymentRecord> {
    for (;;) {
      const record = this.o.store.get(id);
      if (record.state !== 'promoted' || record.warmUntil === null) return record;
      const left = record.warmUntil - this.o.clock.now();
      if (left <= 0) {
        try {
          return await this.apply(id, { type: 'warm_elapsed' });
        } catch (error) {
          // A rollback committed first (another controller): it owns the lanes now.
          if (isWvoError(error) && error.code === 'WVO_DEPLOYMENT_CONFLICT') return this.o.store.get(id);
          throw error;
        }
      }
      // Re-read at least every second: a rollback from another process ends the wait early.
      await this.o.clock.sleep(Math.min(left, 1_000), this.o.signal);
    }
  }

  /** Stop the old lanes whose keep-warm window ended while no controller waited on it. */
  async expireWarm(mayAct: (id: string) => boolean = () => true): Promise<void> {
    const now = this.o.clock.now();
    for (const d of this.o.store.list()) {
      if (d.state === 'promoted' && d.warmUntil !== null && d.warmUntil <= now && mayAct(d.id)) await this.apply(d.id, { type: 'warm_elapsed' });
    }
  }

  /**
   * Apply one event and everything it leads to: commit (write-ahead), run the effects, then
   * feed `onSuccess` or `effect_failed`. Returns the last committed record.
   */
  async apply(id: string, first: PromotionEvent): Promise<DeploymentRecord> {
    let record = this.o.store.get(id);
    let event: PromotionEvent | null = first;
    let rollbackAttempt = 0;
    while (event) {
      if (event.type === 'canary_ready' && record.state === 'canary_live' && weightedSteps(record.plan.canarySteps).length === 0) {
        const fresh = await this.referenceWindow(record);
        if (fresh.version !== record.version) return fresh; // changed meanwhile (a rollback): not ours to switch
      }
      const result = transition(record, event, this.o.clock.now());
      if (result.noop !== null) {
        this.log.info({ deployment: id, event: event.type, state: record.state }, `skip: ${result.noop}`);
        return record;
      }
      record = this.o.store.commit(result);
      this.committed.set(id, record.version);
      if (result.transition) {
        const t = result.transition;
        this.log.info({ deployment: id, from: t.from, to: t.to, event: t.event }, t.reason);
      }
      event = null;
      const failed = await this.runEffects(record, result.effects);
      if (!failed) {
        event = result.onSuccess;
        continue;
      }
      if (record.state === 'rolling_back') {
        rollbackAttempt++;
        const attempts = this.o.rollbackAttempts ?? 3;
        if (rollbackAttempt >= attempts) {
          throw promotionErrors.create('WVO_ROLLBACK_STUCK', `rollback of ${id} failed ${attempts} times: ${failed.message}`, {
            subject: id,
            hint: 'fix the cause (lane runtime, proxy) and run `wvo resume`; the deployment stays rolling_back',
            details: { effect: failed.effect.kind },
            cause: failed.error,
          });
        }
        await this.o.clock.sleep(this.o.rollbackRetryMs ?? 1_000, this.o.signal);
        event = { type: 'resume', reason: `retry ${rollbackAttempt + 1}/${attempts} after ${failed.effect.kind} failed` };
      } else {
        event = { type: 'effect_failed', effect: failed.effect.kind, message: failed.message };
      }
    }
    return record;
  }

  private async runEffects(
    record: DeploymentRecord,
    effects: readonly Effect[],
  ): Promise<{ effect: Effect; message: string; error: unknown } | undefined> {
    for (const effect of effects) {
      try {
        await performEffect(this.o.runner, effect, record, () => this.o.store.transitions(record.id));
      } catch (error) {
        if (!this.isEffectFailure(error)) throw error;
        const message = error instanceof Error ? error.message : String(error);
        this.log.warn({ deployment: record.id, effect: describeEffect(effect) }, `effect failed: ${message}`);
        return { effect, message, error };
      }
    }
    return undefined;
  }

  /** Drive a deployment until it settles (`promoted` or `rolled_back`). */
  async drive(id: string): Promise<DeploymentRecord> {
    for (;;) {
      const record = this.o.store.get(id);
      if (isSettled(record.state)) {
        this.lastSample.delete(id);
        this.reference.delete(id);
        return record;
      }
      const mine = this.committed.get(id);
      if (mine !== undefined && mine !== record.version) {
        this.log.warn({ deployment: id, state: record.state }, 'skip: another controller advanced this deployment; leaving it to that controller');
        return record;
      }
      try {
        if (isObserved(record.state)) await this.observeOnce(record);
        else if (record.state === 'shadowed') await this.apply(id, { type: 'start' });
        // canary_live / switched / rolling_back here mean a chain was cut short: resume decides.
        else await this.apply(id, { type: 'resume' });
      } catch (error) {
        if (isWvoError(error) && error.code === 'WVO_DEPLOYMENT_CONFLICT') {
          this.log.warn({ deployment: id }, 'another controller changed this deployment; leaving it to that controller');
          return this.o.store.get(id);
        }
        throw error;
      }
    }
  }

  /** One observation interval: wait, scrape, judge, and close the phase when its window ends. */
  private async observeOnce(record: DeploymentRecord): Promise<void> {
    const obs = record.observation!;
    const { plan } = record;
    if (!this.lastSample.has(record.id)) {
      const first = await this.scrape(record);
      if (first) this.lastSample.set(record.id, first);
    }
    const wait = Math.max(0, Math.min(plan.intervalMs, obs.phaseEndsAt - this.o.clock.now()));
    if (wait > 0) await this.o.clock.sleep(wait, this.o.signal);

    const current = this.o.store.get(record.id);
    if (current.state !== record.state || current.version !== record.version) return; // changed meanwhile

    const before = this.lastSample.get(record.id);
    const [after, probes] = await Promise.all([this.scrape(record), this.probe(record)]);
    let event: PromotionEvent;
    if (!after) event = { type: 'gate_failed', reasons: ['metrics: scrape failed'] };
    else if (!before) event = { type: 'gate_passed', reasons: ['first scrape of the phase: nothing to compare yet'] };
    else {
      try {
        const reference = this.reference.get(record.id);
        const judged = judgeObservedInterval(current, { before, after, probes, ...(reference ? { reference } : {}) }, this.o.clock.now());
        event = judged.event;
        if (current.state === 'weighted') this.reference.set(record.id, judged.baselineTraffic);
        const a = judged.analysis;
        this.log.info(
          { deployment: record.id, state: current.state, weight: current.observation?.weight, verdict: a.verdict, score: a.score, gates: judged.gates.pass },
          `interval: analysis ${a.verdict}${a.score === null ? '' : ` (score ${a.score})`}${a.verdict === 'pass' ? '' : `: ${a.reasons.slice(0, 3).join('; ')}`}`,
        );
      } catch (error) {
        if (!isWvoError(error)) throw error;
        event = { type: 'gate_failed', reasons: [`metrics: ${error.message}`] };
      }
    }
    if (after) this.lastSample.set(record.id, after);
    const judged = await this.apply(record.id, event);
    if (isObserved(judged.state) && this.o.clock.now() >= (judged.observation?.phaseEndsAt ?? Infinity)) {
      await this.apply(record.id, { type: 'observe_window_elapsed' });
    }
  }

  /**
   * A one-step plan's reference: with the candidate started and idle, one interval of the
   * baseline taking all traffic, right before the switch. Returns the record as it stands after.
   */
  private async referenceWindow(record: DeploymentRecord): Promise<DeploymentRecord> {
    const first = await this.scrape(record);
    await this.o.clock.sleep(record.plan.intervalMs, this.o.signal);
    const second = first ? await this.scrape(record) : undefined;
    if (first && second) {
      const sample = laneSampleFromScrapes(parsePromText(first.proxyText), parsePromText(second.proxyText), record.plan.baseline.lane);
      this.reference.set(record.id, sample);
      this.lastSample.set(record.id, second);
    }
    return this.o.store.get(record.id);
  }

  /** The plan's semantic probes against both lanes; a runner without probes runs none. */
  private async probe(record: DeploymentRecord): Promise<ProbeResult[]> {
    if (record.plan.probes.length === 0 || !this.o.runner.runProbes) return [];
    try {
      return await this.o.runner.runProbes(record);
    } catch (error) {
      if (!this.isEffectFailure(error)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      return record.plan.probes.map((p) => ({ name: p.name, lane: 'candidate' as const, ok: false, reason }));
    }
  }

  /** A failed scrape is a failed check, not a crash: the candidate may be what broke it. */
  private async scrape(record: DeploymentRecord): Promise<MetricsSnapshot | undefined> {
    try {
      return await this.o.runner.readMetrics(record);
    } catch (error) {
      if (!this.isEffectFailure(error)) throw error;
      this.log.warn({ deployment: record.id }, `metrics scrape failed: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }
}
