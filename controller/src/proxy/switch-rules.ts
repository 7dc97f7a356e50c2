import { ProxyError } from './errors.js';
import type { SessionPolicy } from './options.js';

/**
 * Pure routing decisions: which lane is active, which lanes drain until when, whether a switch is
 * allowed, and what happens to a session given its lane's role. No I/O, no clock: `now` is passed.
 */
export const LANE_ROLES = ['active', 'canary', 'draining', 'retired', 'unknown'] as const;
export type LaneRole = (typeof LANE_ROLES)[number];

/** A weighted candidate: `weight` % of new sessions and session-less calls go to `lane`. */
export interface CanarySplit {
  readonly lane: string;
  /** 0–100. */
  readonly weight: number;
}

export interface RoutingState {
  readonly active: string | null;
  /** Lane → drain deadline (epoch ms). */
  readonly draining: ReadonlyMap<string, number>;
  /** Absent: the active lane takes every new session. */
  readonly canary?: CanarySplit | undefined;
}

export interface LaneFacts {
  readonly registered: boolean;
  readonly healthy: boolean;
  /** Why its last health check failed. */
  readonly reason?: string;
}

export function laneRole(state: RoutingState, lane: string, registered: boolean, now: number): LaneRole {
  if (!registered) return 'unknown';
  if (state.active === lane) return 'active';
  if (state.canary?.lane === lane) return 'canary';
  const deadline = state.draining.get(lane);
  if (deadline !== undefined && now < deadline) return 'draining';
  return 'retired';
}

export const SESSION_ROUTES = ['forward', 'move', 'expire'] as const;
export type SessionRoute = (typeof SESSION_ROUTES)[number];

/**
 * A session stays on its lane while that lane is active, the weighted canary or draining.
 * Otherwise it moves (policy `move`, when the proxy holds the client's `initialize` to replay) or
 * expires (404).
 */
export function routeSession(role: LaneRole, policy: SessionPolicy, replayable: boolean): SessionRoute {
  if (role === 'active' || role === 'canary' || role === 'draining') return 'forward';
  return policy === 'move' && replayable ? 'move' : 'expire';
}

/**
 * A session due to leave its lane (route `move` or `expire`) with work in flight: `wait` (keep it
 * on its lane until the first quiet moment), `go` (nothing in flight: move it now) or `force`
 * (still busy, but the grace after its drain deadline is over, or its lane is unhealthy and
 * cannot finish the exchange anyway).
 */
export const MOVE_GATES = ['go', 'wait', 'force'] as const;
export type MoveGate = (typeof MOVE_GATES)[number];

export interface MoveGateInput {
  /** POSTs in flight or lane → client requests unanswered. */
  readonly busy: boolean;
  readonly laneHealthy: boolean;
  /** When the session became due to move (epoch ms). */
  readonly dueSince: number;
  readonly now: number;
  /** Hard cap on the wait after `dueSince`. */
  readonly graceMs: number;
}

export function moveGate(input: MoveGateInput): MoveGate {
  if (!input.busy) return 'go';
  if (!input.laneHealthy || input.now - input.dueSince >= input.graceMs) return 'force';
  return 'wait';
}

export interface SwitchRequest {
  readonly lane: string;
  /**
   * Rollback: the lane being left is abandoned, so its sessions move at once instead of draining.
   * The same happens without the flag when the lane being left is unhealthy (nobody can serve there).
   */
  readonly rollback?: boolean;
}

export interface SwitchPlan {
  readonly next: RoutingState;
  readonly previous: string | null;
  /** Deadline given to the lane being left (equal to `now` when its sessions move at once). */
  readonly previousDeadline: number | undefined;
  readonly immediate: boolean;
  readonly noop: boolean;
  /** The weighted candidate the switch ended (unless it became active): it drains from now. */
  readonly canaryEnded?: { readonly lane: string; readonly deadline: number };
}

export function planSwitch(
  state: RoutingState,
  request: SwitchRequest,
  facts: (lane: string) => LaneFacts,
  now: number,
  drainTimeoutMs: number,
): SwitchPlan {
  const target = facts(request.lane);
  if (!target.registered) {
    throw new ProxyError('WVO_PROXY_LANE_UNKNOWN', `no lane named ${JSON.stringify(request.lane)}`, {
      subject: request.lane,
      hint: 'register it first (POST /lanes {name, url})',
    });
  }
  if (!target.healthy) {
    throw new ProxyError('WVO_PROXY_LANE_UNHEALTHY', `lane ${request.lane} is not healthy${target.reason ? ` (${target.reason})` : ''}; switch refused`, {
      subject: request.lane,
      hint: 'wait until its health check passes (GET /lanes shows health and health_reason)',
    });
  }
  const previous = state.active;
  // A switch sends every new session to one lane, so it ends any weighted split: a candidate
  // switched to keeps its sessions (now active); any other candidate drains like a lane left.
  const canary = state.canary?.lane !== undefined && state.canary.lane !== request.lane ? state.canary.lane : undefined;
  const canaryDeadline = request.rollback || (canary !== undefined && !facts(canary).healthy) ? now : now + drainTimeoutMs;
  if (previous === request.lane) {
    if (canary === undefined) return { next: state, previous, previousDeadline: undefined, immediate: false, noop: true };
    const draining = new Map(state.draining).set(canary, canaryDeadline);
    return {
      next: { active: previous, draining },
      previous,
      previousDeadline: undefined,
      immediate: Boolean(request.rollback),
      noop: false,
      canaryEnded: { lane: canary, deadline: canaryDeadline },
    };
  }
  const draining = new Map(state.draining);
  // Switching back to a draining lane: its pinned sessions simply stay where they are.
  draining.delete(request.lane);
  if (canary !== undefined) draining.set(canary, canaryDeadline);
  let previousDeadline: number | undefined;
  let immediate = false;
  if (previous !== null) {
    const previousFacts = facts(previous);
    immediate = Boolean(request.rollback) || (previousFacts.registered && !previousFacts.healthy);
    previousDeadline = immediate ? now : now + drainTimeoutMs;
    draining.set(previous, previousDeadline);
  }
  return {
    next: { active: request.lane, draining },
    previous,
    previousDeadline,
    immediate,
    noop: false,
    ...(canary !== undefined ? { canaryEnded: { lane: canary, deadline: canaryDeadline } } : {}),
  };
}

/** Start (or shorten) the drain of a non-active lane. */
export function planDrain(state: RoutingState, lane: string, registered: boolean, now: number, timeoutMs: number): RoutingState {
  if (!registered) {
    throw new ProxyError('WVO_PROXY_LANE_UNKNOWN', `no lane named ${JSON.stringify(lane)}`, { subject: lane });
  }
  if (state.active === lane) {
    throw new ProxyError('WVO_PROXY_LANE_ACTIVE', `lane ${lane} is active; switch away from it before draining`, {
      subject: lane,
      hint: 'POST /switch {lane} to another lane first',
    });
  }
  if (state.canary?.lane === lane) {
    throw new ProxyError('WVO_PROXY_LANE_ACTIVE', `lane ${lane} is the weighted canary; clear the split before draining it`, {
      subject: lane,
      hint: 'POST /weights/clear first',
    });
  }
  const draining = new Map(state.draining);
  const current = draining.get(lane);
  const deadline = now + timeoutMs;
  draining.set(lane, current === undefined ? deadline : Math.min(current, deadline));
  return { active: state.active, draining, canary: state.canary };
}
