import type { Clock } from '../../../common/src/clock.js';
import type { Logger } from '../../../common/src/logger.js';
import { ProxyError } from './errors.js';
import { HealthCheck, type HealthCheckOptions } from './health-check.js';
import { Lock } from './lock.js';
import type { ProxyMetrics } from './metrics.js';
import { validateLane, type LaneSpec } from './options.js';
import { loadRouteTable, saveRouteTable, type RouteTable } from './route-table.js';
import { chooseLane, planClearWeights, planWeights, type RandomSource, type WeightRequest } from './canary-split.js';
import { laneRole, planDrain, planSwitch, type CanarySplit, type LaneRole, type RoutingState, type SwitchRequest } from './switch-rules.js';
import type { SurfaceDigest } from './surface-digest.js';
import { Target, type TargetOptions } from './target.js';

export interface ServiceOptions {
  target: TargetOptions;
  health: HealthCheckOptions;
  statePath: string | undefined;
  drainTimeoutMs: number;
  clock: Clock;
  /** Draws for the weighted split (seeded in tests). */
  random: RandomSource;
  logger: Logger;
  /** Called when a lane stops serving its pinned sessions (drain deadline reached, or at once on rollback). */
  onRetire: (lane: string) => void;
}

export interface LaneView {
  name: string;
  url: string;
  role: LaneRole;
  healthy: boolean;
  health: string;
  /** How the lane is checked: `/readyz`, `mcp`, `mcp:/path`… */
  health_check: string;
  health_reason?: string;
  last_check_at?: string;
  drain_deadline?: string;
  /** Digests of what the lane advertises (tools, prompts, resources, templates), from its MCP health check. */
  surface?: SurfaceDigest;
  /** Share (%) of new sessions and session-less calls this lane takes (active and canary lanes). */
  weight?: number;
  inflight: number;
}

/** The weighted split as the admin API shows it. */
export interface CanaryView {
  candidate: string;
  weight: number;
  active: string | null;
}

export interface WeightResult {
  canary: CanaryView | null;
  /** The candidate that stopped taking traffic (cleared or replaced), and until when its sessions stay. */
  ended?: { lane: string; drain_deadline: string };
  noop: boolean;
}

export interface SwitchResult {
  active: string;
  previous: string | null;
  /** Sessions on the previous lane move at once (rollback, or the previous lane is unhealthy). */
  immediate: boolean;
  drain_deadline?: string;
  switched_at: string;
  took_ms: number;
  noop: boolean;
}

export interface LastSwitch {
  from: string | null;
  to: string;
  at: string;
  immediate: boolean;
}

/**
 * The lanes and which one is active (kamal-proxy's Service). The switch is a pointer swap under a
 * lock (after the route table is persisted); draining happens outside the lock, by deadline timers.
 */
export class Service {
  private readonly targets = new Map<string, Target>();
  private readonly checks = new Map<string, HealthCheck>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly lock = new Lock();
  private state: RoutingState = { active: null, draining: new Map() };
  lastSwitch: LastSwitch | undefined;
  metrics: ProxyMetrics | undefined;

  constructor(private readonly options: ServiceOptions) {}

  /** Load the route table, then register lanes from flags; the table's active lane wins over `--active`. */
  async init(lanes: readonly LaneSpec[], active: string | undefined): Promise<void> {
    const table = this.options.statePath ? await loadRouteTable(this.options.statePath) : undefined;
    for (const lane of table?.lanes ?? []) this.addTarget(validateLane(lane));
    for (const lane of lanes) this.addTarget(lane);
    const wanted = table?.active ?? active ?? null;
    if (wanted !== null && !this.targets.has(wanted)) {
      throw new ProxyError('WVO_PROXY_LANE_UNKNOWN', `active lane ${wanted} is not registered`, {
        subject: table?.active ? this.options.statePath : '--active',
        hint: 'pass --lane name=url for it',
        exitCode: 2,
      });
    }
    this.state = { active: wanted, draining: new Map(), canary: this.restoredCanary(table?.canary, wanted) };
    if (this.options.statePath) await this.persist(this.state);
    this.options.logger.info({ active: wanted, lanes: [...this.targets.keys()], canary: this.state.canary, restored: Boolean(table) }, 'routes loaded');
  }

  get active(): string | null {
    return this.state.active;
  }

  get canary(): CanaryView | null {
    const split = this.state.canary;
    return split ? { candidate: split.lane, weight: split.weight, active: this.state.active } : null;
  }

  /**
   * The lane for a new session or a session-less call: the active lane, or the candidate by
   * weight. `pinned` (sessions per lane) is given for a new session, to keep the lanes' shares.
   */
  newSessionTarget(pinned?: ReadonlyMap<string, number>): Target | undefined {
    const split = this.state.canary;
    const counts = pinned && split && this.state.active ? { candidate: pinned.get(split.lane) ?? 0, active: pinned.get(this.state.active) ?? 0 } : undefined;
    const lane = chooseLane(this.state, this.options.random, (name) => this.targets.get(name)?.healthy ?? false, counts);
    return lane === null ? undefined : this.targets.get(lane);
  }

  activeTarget(): Target | undefined {
    return this.state.active === null ? undefined : this.targets.get(this.state.active);
  }

  target(name: string): Target | undefined {
    return this.targets.get(name);
  }

  role(name: string, now = this.options.clock.now()): LaneRole {
    return laneRole(this.state, name, this.targets.has(name), now);
  }

  async register(spec: LaneSpec): Promise<LaneView> {
    const lane = validateLane(spec);
    const view = await this.lock.run(async () => {
      const existing = this.targets.get(lane.name);
      if (existing && existing.url !== lane.url) {
        if (this.role(lane.name) !== 'retired') {
          throw new ProxyError('WVO_PROXY_LANE_ACTIVE', `lane ${lane.name} is serving traffic; its URL cannot change`, {
            subject: lane.name,
            hint: 'register the new endpoint under another name and switch to it',
          });
        }
        this.removeTarget(lane.name);
      }
      if (!this.targets.has(lane.name)) {
        this.addTarget(lane);
        await this.persist(this.state);
      } else if (lane.health !== undefined && existing?.ownHealth !== lane.health) {
        this.recheck(existing!, lane.health);
        await this.persist(this.state);
      }
      return this.view(lane.name);
    });
    if (view.healthy) return view;
    // A lane (re)started just now is registered again by whoever started it: answer with its health
    // now, not after the next periodic check (up to an interval: a second by default on every
    // canary start and every rollback that restarts the kept lane). A new target's first check is
    // already in flight; probe() joins it. Outside the lock: a slow lane must not hold switches.
    await this.checks.get(lane.name)?.probe();
    return this.targets.has(lane.name) ? this.view(lane.name) : view;
  }

  async switchTo(request: SwitchRequest): Promise<SwitchResult> {
    const started = performance.now();
    const target = this.targets.get(request.lane);
    // A lane registered a moment ago has not been checked yet: probe it now rather than refuse.
    if (target && !target.healthy) await this.checks.get(request.lane)?.probe();
    const outcome = await this.lock.run(async () => {
      const now = this.options.clock.now();
      const plan = planSwitch(
        this.state,
        request,
        (name) => this.facts(name),
        now,
        this.options.drainTimeoutMs,
      );
      if (plan.noop) return { plan, now };
      await this.persist(plan.next);
      this.state = plan.next; // the swap
      this.lastSwitch = { from: plan.previous, to: request.lane, at: new Date(now).toISOString(), immediate: plan.immediate };
      return { plan, now };
    });
    const { plan, now } = outcome;
    if (!plan.noop) {
      this.cancelTimer(request.lane);
      if (plan.previous !== null && plan.previous !== request.lane && plan.previousDeadline !== undefined) this.scheduleRetire(plan.previous, plan.previousDeadline);
      if (plan.canaryEnded) this.scheduleRetire(plan.canaryEnded.lane, plan.canaryEnded.deadline);
      this.metrics?.switches.labels(plan.previous ?? '', request.lane, plan.immediate ? 'rollback' : 'drain').inc();
      this.options.logger.info({ from: plan.previous, to: request.lane, immediate: plan.immediate }, 'switched');
    }
    return {
      active: request.lane,
      previous: plan.previous,
      immediate: plan.immediate,
      ...(plan.previousDeadline !== undefined ? { drain_deadline: new Date(plan.previousDeadline).toISOString() } : {}),
      switched_at: new Date(now).toISOString(),
      took_ms: Math.round((performance.now() - started) * 1000) / 1000,
      noop: plan.noop,
    };
  }

  /** Send `weight` % of new sessions to `candidate` (the active lane takes the rest). Swapped under the lock, persisted first. */
  async setWeights(request: WeightRequest): Promise<WeightResult> {
    const target = this.targets.get(request.candidate);
    if (target && !target.healthy) await this.checks.get(request.candidate)?.probe();
    const plan = await this.lock.run(async () => {
      const next = planWeights(this.state, request, (name) => this.facts(name), this.options.clock.now(), this.options.drainTimeoutMs);
      if (!next.noop) {
        await this.persist(next.next);
        this.state = next.next;
      }
      return next;
    });
    this.cancelTimer(request.candidate);
    if (plan.replaced) this.scheduleRetire(plan.replaced.lane, plan.replaced.deadline);
    if (!plan.noop) this.options.logger.info({ candidate: request.candidate, weight: request.weight, replaced: plan.replaced?.lane }, 'weights set');
    return {
      canary: this.canary,
      ...(plan.replaced ? { ended: { lane: plan.replaced.lane, drain_deadline: new Date(plan.replaced.deadline).toISOString() } } : {}),
      noop: plan.noop,
    };
  }

  /** End the split: the candidate drains (or, with `rollback`, its sessions move to the active lane at once). */
  async clearWeights(rollback: boolean): Promise<WeightResult> {
    const plan = await this.lock.run(async () => {
      const next = planClearWeights(this.state, rollback, this.options.clock.now(), this.options.drainTimeoutMs);
      if (next.ended) {
        await this.persist(next.next);
        this.state = next.next;
      }
      return next;
    });
    if (plan.ended) {
      this.scheduleRetire(plan.ended.lane, plan.ended.deadline);
      this.options.logger.info({ candidate: plan.ended.lane, rollback }, 'weights cleared');
    }
    return {
      canary: null,
      ...(plan.ended ? { ended: { lane: plan.ended.lane, drain_deadline: new Date(plan.ended.deadline).toISOString() } } : {}),
      noop: plan.ended === undefined,
    };
  }

  /** Drain a non-active lane: its sessions stay until `timeoutMs` from now (0 = move them now). */
  async drain(lane: string, timeoutMs: number): Promise<LaneView> {
    const deadline = await this.lock.run(() => {
      const now = this.options.clock.now();
      this.state = planDrain(this.state, lane, this.targets.has(lane), now, timeoutMs);
      return this.state.draining.get(lane)!;
    });
    this.cancelTimer(lane);
    this.scheduleRetire(lane, deadline);
    return this.view(lane);
  }

  lanes(): LaneView[] {
    return [...this.targets.keys()].map((name) => this.view(name));
  }

  view(name: string): LaneView {
    const target = this.targets.get(name)!;
    const deadline = this.state.draining.get(name);
    const role = this.role(name);
    const weight = this.weightOf(name);
    return {
      name,
      url: target.url,
      role,
      healthy: target.healthy,
      health: target.health,
      health_check: target.healthSpec,
      ...(target.healthReason ? { health_reason: target.healthReason } : {}),
      ...(target.lastCheckAt ? { last_check_at: new Date(target.lastCheckAt).toISOString() } : {}),
      ...(role === 'draining' && deadline !== undefined ? { drain_deadline: new Date(deadline).toISOString() } : {}),
      ...(target.surface ? { surface: target.surface } : {}),
      ...(weight !== undefined ? { weight } : {}),
      inflight: target.inflight,
    };
  }

  /** Share (%) of new sessions `name` takes; undefined for lanes that take none by design. */
  weightOf(name: string): number | undefined {
    const split = this.state.canary;
    if (split?.lane === name) return split.weight;
    if (this.state.active === name) return 100 - (split?.weight ?? 0);
    return undefined;
  }

  async close(): Promise<void> {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    // Stopping a check frees what it holds on its lane (an MCP health session) before pools close.
    await Promise.all([...this.checks.values()].map((check) => check.stop()));
    await Promise.all([...this.targets.values()].map((t) => t.close()));
  }

  private addTarget(lane: LaneSpec): void {
    if (this.targets.get(lane.name)?.url === lane.url) return;
    if (this.targets.has(lane.name)) this.removeTarget(lane.name);
    const target = new Target(lane.name, lane.url, this.options.target, lane.health ?? this.options.health.spec, lane.health);
    this.targets.set(lane.name, target);
    this.startCheck(target);
  }

  private startCheck(target: Target): void {
    const check = new HealthCheck(target, this.options.health, this.options.logger, () => undefined);
    this.checks.set(target.name, check);
    check.start();
  }

  /** The lane is checked another way from now on (same endpoint: its traffic is not touched). */
  private recheck(target: Target, health: string): void {
    void this.checks.get(target.name)?.stop();
    target.healthSpec = health;
    target.ownHealth = health;
    target.health = 'unknown';
    target.healthReason = undefined;
    target.surface = undefined;
    this.startCheck(target);
  }

  private removeTarget(name: string): void {
    void this.checks.get(name)?.stop();
    this.checks.delete(name);
    const target = this.targets.get(name);
    this.targets.delete(name);
    // Requests still running on the old endpoint finish; close() waits for them.
    void target?.pool.close().catch(() => undefined);
    void target?.streams.close().catch(() => undefined);
  }

  private scheduleRetire(lane: string, deadline: number): void {
    const delay = Math.max(0, deadline - this.options.clock.now());
    const fire = () => {
      this.timers.delete(lane);
      if (this.state.active === lane || this.state.canary?.lane === lane) return; // serving again meanwhile
      this.options.logger.info({ lane }, 'drain deadline reached');
      this.options.onRetire(lane);
    };
    if (delay === 0) {
      fire();
      return;
    }
    const timer = setTimeout(fire, delay);
    timer.unref();
    this.timers.set(lane, timer);
  }

  private cancelTimer(lane: string): void {
    const timer = this.timers.get(lane);
    if (timer) clearTimeout(timer);
    this.timers.delete(lane);
  }

  private facts(name: string): { registered: boolean; healthy: boolean; reason?: string } {
    const target = this.targets.get(name);
    return { registered: target !== undefined, healthy: target?.healthy ?? false, ...(target?.healthReason ? { reason: target.healthReason } : {}) };
  }

  /** A persisted split survives a restart when its candidate is still registered and not the active lane. */
  private restoredCanary(split: RouteTable['canary'], active: string | null): CanarySplit | undefined {
    if (split === undefined) return undefined;
    if (this.targets.has(split.lane) && split.lane !== active && active !== null) return { lane: split.lane, weight: split.weight };
    this.options.logger.warn({ canary: split, active }, 'persisted canary split dropped: its lane is not registered or is active');
    return undefined;
  }

  private async persist(state: RoutingState): Promise<void> {
    if (!this.options.statePath) return;
    const table: RouteTable = {
      version: 1,
      active: state.active,
      lanes: [...this.targets.values()].map((t) => ({ name: t.name, url: t.url, ...(t.ownHealth ? { health: t.ownHealth } : {}) })),
      ...(state.canary ? { canary: { lane: state.canary.lane, weight: state.canary.weight } } : {}),
      updated_at: new Date(this.options.clock.now()).toISOString(),
    };
    await saveRouteTable(this.options.statePath, table);
  }
}
