import { ProxyError } from './errors.js';
import type { CanarySplit, LaneFacts, RoutingState } from './switch-rules.js';

/**
 * Pure rules of the weighted canary (kamal-proxy's load balancer, reduced to two lanes): setting
 * and clearing the split, and which lane a new session goes to. Randomness is a number drawn by
 * the caller, so a seeded source makes every choice reproducible.
 */

/** A source of uniform numbers in [0, 1) (Math.random, or a seeded generator in tests). */
export type RandomSource = () => number;

export interface WeightRequest {
  readonly candidate: string;
  readonly weight: number;
}

export interface WeightPlan {
  readonly next: RoutingState;
  /** A candidate replaced by another one: it drains from now. */
  readonly replaced?: { readonly lane: string; readonly deadline: number };
  readonly noop: boolean;
}

export function validateWeight(weight: number, subject = 'weight'): number {
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 100) {
    throw new ProxyError('WVO_PROXY_WEIGHT_INVALID', `weight must be a number from 0 to 100, got ${JSON.stringify(weight)}`, {
      subject,
      hint: 'the share (percent) of new sessions the candidate takes; 100 → switch instead to make it active',
    });
  }
  return weight;
}

export function planWeights(
  state: RoutingState,
  request: WeightRequest,
  facts: (lane: string) => LaneFacts,
  now: number,
  drainTimeoutMs: number,
): WeightPlan {
  const weight = validateWeight(request.weight);
  const candidate = facts(request.candidate);
  if (!candidate.registered) {
    throw new ProxyError('WVO_PROXY_LANE_UNKNOWN', `no lane named ${JSON.stringify(request.candidate)}`, {
      subject: 'candidate',
      hint: 'register it first (POST /lanes {name, url})',
    });
  }
  if (state.active === null) {
    throw new ProxyError('WVO_PROXY_NO_ACTIVE_LANE', 'no active lane to split traffic with', {
      subject: 'candidate',
      hint: 'POST /switch {lane} first: the active lane takes the rest of the traffic',
    });
  }
  if (request.candidate === state.active) {
    throw new ProxyError('WVO_PROXY_LANE_ACTIVE', `lane ${request.candidate} is the active lane; it cannot be the candidate`, {
      subject: 'candidate',
      hint: 'name the lane being promoted; the active lane takes the rest of the traffic',
    });
  }
  if (!candidate.healthy) {
    throw new ProxyError('WVO_PROXY_LANE_UNHEALTHY', `lane ${request.candidate} is not healthy${candidate.reason ? ` (${candidate.reason})` : ''}; weighted routing refused`, {
      subject: 'candidate',
      hint: 'wait until its health check passes (GET /lanes shows health and health_reason)',
    });
  }
  const current = state.canary;
  if (current?.lane === request.candidate && current.weight === weight) return { next: state, noop: true };
  const draining = new Map(state.draining);
  // A draining lane made candidate again keeps its pinned sessions where they are.
  draining.delete(request.candidate);
  let replaced: WeightPlan['replaced'];
  if (current !== undefined && current.lane !== request.candidate) {
    replaced = { lane: current.lane, deadline: now + drainTimeoutMs };
    draining.set(current.lane, replaced.deadline);
  }
  return { next: { active: state.active, draining, canary: { lane: request.candidate, weight } }, ...(replaced ? { replaced } : {}), noop: false };
}

export interface ClearPlan {
  readonly next: RoutingState;
  /** The former candidate and the deadline its sessions stay until (now with `rollback`). */
  readonly ended: { readonly lane: string; readonly deadline: number } | undefined;
}

/** End the split: the candidate drains (or, on rollback, its sessions move to the active lane at once). */
export function planClearWeights(state: RoutingState, rollback: boolean, now: number, drainTimeoutMs: number): ClearPlan {
  if (state.canary === undefined) return { next: state, ended: undefined };
  const deadline = rollback ? now : now + drainTimeoutMs;
  const draining = new Map(state.draining).set(state.canary.lane, deadline);
  return { next: { active: state.active, draining }, ended: { lane: state.canary.lane, deadline } };
}

/** Sessions pinned to the candidate and to the active lane right now (the session table's counts). */
export interface PinnedSessions {
  readonly candidate: number;
  readonly active: number;
}

/**
 * The lane for a new session or a session-less call. One draw per call whenever a split is set
 * (even when the candidate cannot take it), so the sequence of choices depends only on the source
 * and the counts. For a new session (`pinned` given) the choice keeps the lanes' shares of pinned
 * sessions at the weight: a lane below its share gets the session, and only when the new session
 * cannot move either lane's share past its target (within one session) does the draw decide.
 * Coin flips alone let the counts wander (measured: 16 vs 7 sessions for minutes at 50 %), and
 * on busy cores a lane's latency follows its load, so the comparison would no longer be "the
 * same traffic". Session-less calls pin nothing: the draw alone decides.
 */
export function chooseLane(state: RoutingState, random: RandomSource, candidateHealthy: (lane: string) => boolean, pinned?: PinnedSessions): string | null {
  const split: CanarySplit | undefined = state.canary;
  if (split === undefined) return state.active;
  const draw = random() * 100;
  // An unhealthy candidate gets nothing new; the active lane serves meanwhile.
  if (!candidateHealthy(split.lane)) return state.active;
  if (pinned && split.weight > 0 && split.weight < 100) {
    // How many of the sessions (this one included) the candidate should hold, minus what it holds.
    const deficit = (split.weight / 100) * (pinned.candidate + pinned.active + 1) - pinned.candidate;
    if (deficit >= 1) return split.lane;
    if (deficit <= 0) return state.active;
    return draw < deficit * 100 ? split.lane : state.active;
  }
  return draw < split.weight ? split.lane : state.active;
}

/** mulberry32: a small seeded generator for reproducible splits (tests, benches). */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
