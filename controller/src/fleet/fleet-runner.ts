import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../../../common/src/clock.js';
import { WvoError } from '../../../common/src/errors.js';
import { silentLogger, type Logger } from '../../../common/src/logger.js';
import { isPidAlive } from '../../../common/src/process-alive.js';
import type { WvoConfig } from '../config/index.js';
import { pairedLane } from '../operations/index.js';
import { LEASE_TTL_MS, buildPromotionPlan, isSettled, parsePromotionOptions, type DeploymentRecord, type LeaseHolder, type UpgradeSummary } from '../promotion/index.js';
import { fleetErrors } from './errors.js';
import { decideFleet, finishFleet, updateMember } from './fleet-decide.js';
import { parseFleetOptions, planFleetWaves, resolveWaveSettings, waveSpec } from './fleet-options.js';
import type { FleetMember, FleetRecord } from './fleet-record.js';
import type { FleetStore } from './fleet-store.js';
import type { FleetTarget } from './fleet-targets.js';
import type { MemberPlane } from './member-plane.js';

export interface FleetRunnerDeps {
  config: WvoConfig;
  targets: FleetTarget[];
  store: FleetStore;
  /** The fleet controller's staged upgrades (the representative run every deployment gets). */
  upgrades: { getUpgrade(id?: string): UpgradeSummary };
  open: (target: FleetTarget) => Promise<MemberPlane>;
  clock: Clock;
  logger?: Logger;
  newId?: () => string;
  leaseTtlMs?: number;
}

export interface BegunFleet {
  fleet: FleetRecord;
  done: Promise<FleetRecord>;
}

function newHolder(): LeaseHolder {
  return { owner: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`, pid: process.pid, host: hostname() };
}

/**
 * Rolls one staged upgrade across the fleet in waves (the shell around `decideFleet`): each
 * deployment is promoted by its own promotion machinery (operations' DeployOperations over its
 * own proxy, runtime and controller.db), at most `bootLimit` at once, `pauseMs` between waves.
 * Every decision is written to the fleet record before it is acted on, under a renewed lease,
 * so `resume` after a crash carries on from the record.
 */
export class FleetRunner {
  private readonly log: Logger;
  private readonly planes = new Map<string, Promise<MemberPlane>>();

  constructor(private readonly deps: FleetRunnerDeps) {
    this.log = deps.logger ?? silentLogger();
  }

  private get ttlMs(): number {
    return this.deps.leaseTtlMs ?? LEASE_TTL_MS;
  }

  /**
   * Validate everything (options, wave settings, the upgrade's own promotability, every
   * deployment's proxy answering with a serving lane), write the record, then drive it in the
   * background. Any refusal comes before the record: nothing started.
   */
  async begin(input: unknown): Promise<BegunFleet> {
    const options = parseFleetOptions(input);
    const settings = resolveWaveSettings(this.deps.config, options);
    const waves = planFleetWaves(this.deps.targets.map((t) => t.name), settings);
    const upgrade = this.deps.upgrades.getUpgrade(options.upgradeId);
    // Each wave's promotion options as its members will get them (a window shorter than --interval is refused here).
    for (const wave of waves) buildPromotionPlan(upgrade, parsePromotionOptions(wavePromotion(options.promotion, wave.observeMs))); // tests skipped, failed, contract: refused here
    const largest = Math.max(...waves.map((w) => w.members.length));
    const serving = await Promise.all(
      this.deps.targets.map(async (target) => {
        const now = await (await this.plane(target.name)).serving();
        return { target, ...now };
      }),
    ).catch(async (error: unknown) => {
      await this.closePlanes();
      throw error;
    });
    const idle = serving.find((s) => !s.lane);
    if (idle) {
      await this.closePlanes();
      throw notServing(idle.target.name);
    }
    const now = this.deps.clock.now();
    const members: FleetMember[] = serving.map(({ target, image }) => ({
      name: target.name,
      wave: waves.findIndex((w) => w.members.includes(target.name)),
      state: 'pending',
      deploymentId: null,
      upgradeId: `${upgrade.id}.${target.name}`,
      baselineImage: image,
      candidateImage: upgrade.candidate.image,
      reason: null,
      startedAt: null,
      finishedAt: null,
    }));
    const holder = newHolder();
    const fleet = this.deps.store.create(
      {
        id: this.deps.newId?.() ?? `fleet-${new Date(now).toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(2).toString('hex')}`,
        upgradeId: upgrade.id,
        candidateImage: upgrade.candidate.image,
        state: 'running',
        waveSize: largest,
        waveSpec: waveSpec(settings),
        bootLimit: Math.min(settings.bootLimit, largest),
        pauseMs: settings.pauseMs,
        onFailure: settings.onFailure,
        promotion: options.promotion,
        members,
        waves: waves.map((w, index) => ({ index, size: w.members.length, observeMs: w.observeMs, startedAt: null, finishedAt: null })),
        nextWaveAt: null,
        reason: null,
        createdAt: now,
        updatedAt: now,
        finishedAt: null,
      },
      holder,
      this.ttlMs,
    );
    this.log.info(
      { fleet: fleet.id, waves: waves.length, sizes: fleet.waveSpec, bootLimit: fleet.bootLimit, pauseMs: settings.pauseMs },
      `fleet ${fleet.id}: ${members.length} deployments in ${waves.length} waves (${waves.map((w) => w.members.length).join(', ')})`,
    );
    const done = this.driveLeased(fleet.id, holder);
    done.catch(() => undefined);
    return { fleet, done };
  }

  async promote(input: unknown): Promise<FleetRecord> {
    return (await this.begin(input)).done;
  }

  /** `wvo resume --fleet [id]`: carry on with the running fleet promotion (WVO_FLEET_OWNED while its driver lives). */
  async resume(id?: string): Promise<FleetRecord | undefined> {
    const target = id ?? this.deps.store.running()?.id;
    if (!target) return undefined;
    this.deps.store.get(target);
    const holder = newHolder();
    this.deps.store.acquireLease(target, holder, { now: this.deps.clock.now(), ttlMs: this.ttlMs, isAlive: isPidAlive });
    return this.driveLeased(target, holder);
  }

  private async driveLeased(id: string, holder: LeaseHolder): Promise<FleetRecord> {
    const timer = setInterval(() => {
      try {
        this.deps.store.renewLease(id, holder.owner, { now: this.deps.clock.now(), ttlMs: this.ttlMs });
      } catch (error) {
        this.log.warn({ err: error, fleet: id }, 'could not renew the fleet lease');
      }
    }, Math.max(50, Math.floor(this.ttlMs / 3)));
    timer.unref();
    try {
      return await this.drive(id, holder);
    } finally {
      clearInterval(timer);
      this.deps.store.releaseLease(id, holder.owner);
      await this.closePlanes();
    }
  }

  private async drive(id: string, holder: LeaseHolder): Promise<FleetRecord> {
    const tracking = new Map<string, Promise<void>>();
    const save = (change: (r: FleetRecord) => FleetRecord) => this.deps.store.save(change(this.deps.store.get(id)));
    for (;;) {
      const record = this.deps.store.get(id);
      const now = this.deps.clock.now();
      // Another controller took the lease over (this one was presumed dead): step aside.
      if (record.state === 'running' && !this.deps.store.renewLease(id, holder.owner, { now, ttlMs: this.ttlMs })) {
        this.log.warn({ fleet: id }, `fleet ${id}: lease taken over by another controller; stepping aside`);
        return record;
      }
      const action = decideFleet(record, now);
      switch (action.kind) {
        case 'done':
          return record;
        case 'finish':
          this.log.info({ fleet: id, state: action.state }, `fleet ${id} ${action.state}${action.reason ? `: ${action.reason}` : ''}`);
          save((r) => finishFleet(r, action.state, action.reason, this.deps.clock.now()));
          break;
        case 'wait':
          await this.deps.clock.sleep(Math.max(1, Math.min(action.untilMs - now, 1000)));
          break;
        case 'skip':
          for (const name of action.members) save((r) => updateMember(r, name, { state: 'skipped', reason: 'not begun: the fleet stopped on a failure' }, this.deps.clock.now()));
          break;
        case 'revert':
          for (const name of action.members) await this.revert(id, name, save);
          break;
        case 'begin':
          for (const name of action.members) {
            const wave = record.members.find((m) => m.name === name)!.wave;
            if (!record.members.some((m) => m.wave === wave && m.state !== 'pending')) this.log.info({ fleet: id, wave }, `fleet ${id}: wave ${wave + 1} begins`);
            // Written before the promotion begins: a crash from here on is found by resume.
            save((r) => updateMember(r, name, { state: 'promoting', startedAt: this.deps.clock.now() }, this.deps.clock.now()));
          }
          for (const name of action.members) tracking.set(name, this.track(id, name, save).finally(() => tracking.delete(name)));
          break;
        case 'await': {
          // A resumed runner has no promise for members a dead one began: track them now.
          for (const name of action.members) if (!tracking.has(name)) tracking.set(name, this.track(id, name, save).finally(() => tracking.delete(name)));
          await Promise.race(action.members.map((name) => tracking.get(name)!));
          break;
        }
      }
    }
  }

  /** One member's promotion, begun or resumed, to its outcome in the fleet record (never rejects). */
  private async track(id: string, name: string, save: (change: (r: FleetRecord) => FleetRecord) => FleetRecord): Promise<void> {
    let outcome: Partial<FleetMember>;
    try {
      const plane = await this.plane(name);
      const member = this.deps.store.get(id).members.find((m) => m.name === name)!;
      const existing = member.deploymentId ? plane.find(member.deploymentId) : plane.findByUpgrade(member.upgradeId);
      let result: DeploymentRecord | undefined;
      if (existing) {
        if (!member.deploymentId) save((r) => updateMember(r, name, { deploymentId: existing.id }, this.deps.clock.now()));
        this.log.info({ fleet: id, member: name, deployment: existing.id, state: existing.state }, `${name}: resuming deployment ${existing.id} (${existing.state})`);
        result = isSettled(existing.state) ? existing : ((await plane.resume(existing.id)) ?? plane.find(existing.id));
      } else {
        const record = this.deps.store.get(id);
        const representative = this.deps.upgrades.getUpgrade(record.upgradeId);
        const serving = await plane.serving();
        if (!serving.lane) throw notServing(name);
        plane.recordUpgrade(memberUpgrade(representative, member.upgradeId, serving.lane, serving.image ?? member.baselineImage ?? '(unknown)'), this.deps.clock.now());
        // The wave's observe window from the persisted plan, so a resumed fleet gives the same one.
        const wave = record.waves.find((w) => w.index === member.wave);
        const begun = await plane.begin({ ...wavePromotion(record.promotion, wave?.observeMs ?? null), upgradeId: member.upgradeId });
        save((r) => updateMember(r, name, { deploymentId: begun.deployment.id }, this.deps.clock.now()));
        result = await begun.done;
      }
      outcome =
        result?.state === 'promoted'
          ? { state: 'promoted', reason: null }
          : { state: 'rolled_back', reason: result?.rollback?.reason ?? `its deployment ended ${result?.state ?? 'unknown'}` };
    } catch (error) {
      const code = error instanceof WvoError ? `${error.code}: ` : '';
      outcome = { state: 'failed', reason: `${code}${(error as Error).message}` };
    }
    this.log.info({ fleet: id, member: name, ...outcome }, `${name}: ${outcome.state}${outcome.reason ? ` (${outcome.reason})` : ''}`);
    save((r) => updateMember(r, name, { ...outcome, finishedAt: this.deps.clock.now() }, this.deps.clock.now()));
  }

  private async revert(id: string, name: string, save: (change: (r: FleetRecord) => FleetRecord) => FleetRecord): Promise<void> {
    const member = this.deps.store.get(id).members.find((m) => m.name === name)!;
    const failed = this.deps.store.get(id).members.filter((m) => m.state === 'rolled_back' || m.state === 'failed').map((m) => m.name);
    try {
      const plane = await this.plane(name);
      const record = await plane.rollback(member.deploymentId!, `fleet policy rollback: ${failed.join(', ')} failed`);
      save((r) => updateMember(r, name, { state: 'reverted', reason: `rolled back by policy (deployment ${record.id} ${record.state})` }, this.deps.clock.now()));
    } catch (error) {
      // Recorded, not retried forever: the fleet ends rolled_back naming what could not be undone.
      save((r) => updateMember(r, name, { state: 'failed', reason: `policy rollback failed: ${(error as Error).message}` }, this.deps.clock.now()));
    }
  }

  private plane(name: string): Promise<MemberPlane> {
    let plane = this.planes.get(name);
    if (!plane) {
      const target = this.deps.targets.find((t) => t.name === name);
      plane = target ? this.deps.open(target) : Promise.reject(fleetErrors.create('WVO_FLEET_NOT_FOUND', `deployment ${name} is no longer in fleet.deployments`, { subject: name, hint: 'put it back in wvo.config.json to resume' }));
      plane.catch(() => this.planes.delete(name));
      this.planes.set(name, plane);
    }
    return plane;
  }

  private async closePlanes(): Promise<void> {
    const planes = [...this.planes.values()];
    this.planes.clear();
    for (const plane of planes) await plane.then((p) => p.close()).catch(() => undefined);
  }
}

/** The representative upgrade as one deployment promotes it: its serving lane is the baseline, the idle one the candidate. */
export function memberUpgrade(representative: UpgradeSummary, id: string, lane: string, image: string): UpgradeSummary {
  return {
    id,
    ...(representative.outcome ? { outcome: representative.outcome } : {}),
    steps: representative.steps,
    baseline: { lane, image },
    candidate: { lane: pairedLane(lane), image: representative.candidate.image },
  };
}

/** A wave's promotion options: its observe window, when it has one, over the fleet's. */
function wavePromotion(promotion: Record<string, unknown>, observeMs: number | null): Record<string, unknown> {
  return observeMs === null ? promotion : { ...promotion, observeMs };
}

function notServing(name: string): WvoError {
  return fleetErrors.create('WVO_FLEET_NOT_SERVING', `fleet deployment ${name}: its proxy routes to no lane, so there is no baseline to upgrade`, {
    subject: name,
    hint: 'start its live lane and point its proxy at it (`wvo lane start`, `wvo proxy`) first',
  });
}
