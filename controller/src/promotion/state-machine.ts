import { WvoError } from '../../../common/src/errors.js';
import type { DeploymentRecord, Observation } from './deployment.js';
import { formatDuration } from './duration.js';
import type { Effect } from './effects.js';
import type { EventType, PromotionEvent } from './events.js';
import { weightedSteps } from './canary-steps.js';
import { failureDecision } from './gates.js';
import { MAX_INTERVAL_RECORDS } from './interval-record.js';
import { FORWARD_PATH, forwardIndex, isLegalTransition, type DeploymentState } from './states.js';
import { promotionErrors } from './errors.js';

/** One row of the deployment's history (transitions table, promotion_plan.json). */
export interface TransitionEntry {
  readonly from: DeploymentState;
  readonly to: DeploymentState;
  readonly event: EventType;
  readonly reason: string;
  readonly at: number;
}

export interface TransitionResult {
  /** The record to persist (unchanged when `noop`). */
  readonly record: DeploymentRecord;
  /** Side effects to run, in order, after the record is persisted. */
  readonly effects: readonly Effect[];
  /** The history row to persist with the record; null when nothing worth logging happened. */
  readonly transition: TransitionEntry | null;
  /** The event to feed back once every effect succeeded (e.g. `canary_ready`). */
  readonly onSuccess: PromotionEvent | null;
  /** Why nothing happened (the event was already applied or is not due): argo's "skip, because". */
  readonly noop: string | null;
}

export const RESUME_ACTIONS = ['continue', 'rollback', 'finish_rollback', 'none'] as const;
export type ResumeAction = (typeof RESUME_ACTIONS)[number];

export interface ResumeDecision {
  readonly action: ResumeAction;
  readonly reason: string;
}

/**
 * What to do with a deployment found in `record.state` after its controller died. Effects are
 * idempotent, so "continue" re-issues the current step's effects; anything whose outcome is
 * unknown before the observation began is rolled back (the baseline is still running).
 */
export function resumeDecision(record: DeploymentRecord): ResumeDecision {
  switch (record.state) {
    case 'shadowed':
      return { action: 'continue', reason: 'nothing was started yet: start the canary' };
    case 'canary_live':
      return {
        action: 'rollback',
        reason: 'controller stopped while the canary started: traffic never moved, stop the candidate',
      };
    case 'switched':
      return {
        action: 'rollback',
        reason: 'controller stopped during the switch: proxy state unknown, baseline still running, switch back',
      };
    case 'weighted':
      return record.plan.resumeObserving === 'continue'
        ? { action: 'continue', reason: 'controller stopped during a weighted step: re-assert the weight, restart this step' }
        : { action: 'rollback', reason: 'controller stopped during a weighted step: policy resumeObserving=rollback' };
    case 'observing':
      return record.plan.resumeObserving === 'continue'
        ? { action: 'continue', reason: 'controller stopped while observing: re-assert switch and flags, restart this phase' }
        : { action: 'rollback', reason: 'controller stopped while observing: policy resumeObserving=rollback' };
    case 'promoted':
      return { action: 'none', reason: 'already promoted: only the baseline stop is re-asserted' };
    case 'rolling_back':
      return { action: 'finish_rollback', reason: 'controller stopped while rolling back: finish rolling back' };
    case 'rolled_back':
      return { action: 'none', reason: 'already rolled back' };
  }
}

/**
 * The pure promotion state machine: `(record, event, now) → record', effects`. Throws
 * `WVO_ILLEGAL_TRANSITION` for an edge not in LEGAL_TRANSITIONS; an event already applied (or
 * not yet due) is a no-op that says why.
 */
export function transition(record: DeploymentRecord, event: PromotionEvent, now: number): TransitionResult {
  const s = record.state;
  switch (event.type) {
    case 'start':
      return forward(record, event, 'canary_live', () =>
        move(record, event, 'canary_live', now, `promote upgrade ${record.upgradeId}`, {}, [
          startCanary(record),
          WRITE_PLAN,
        ], { type: 'canary_ready' }),
      );
    case 'canary_ready': {
      const first = weightedSteps(record.plan.canarySteps)[0];
      if (first !== undefined) {
        return forward(record, event, 'weighted', () =>
          move(record, event, 'weighted', now, `${record.plan.candidate.lane} is ready; ${first}% of new sessions to it, observe ${formatDuration(record.plan.observeMs)}`, {
            observation: freshObservation(record, 0, now, undefined, { step: 0, weight: first }),
          }, [setWeights(record, first), WRITE_WORKER_MANAGER, WRITE_PLAN]),
        );
      }
      return forward(record, event, 'switched', () =>
        move(record, event, 'switched', now, `${record.plan.candidate.lane} is ready; switching traffic`, { switchedAt: now }, [
          switchTo(record, 'candidate'),
          WRITE_WORKER_MANAGER,
          WRITE_PLAN,
        ], { type: 'switched' }),
      );
    }
    case 'switched':
      return forward(record, event, 'observing', () =>
        move(record, event, 'observing', now, `observe ${formatDuration(record.plan.observeMs)} with no flag changes`, {
          // Checks counted during weighted steps carry over: one observation, one failure budget.
          observation: freshObservation(record, 0, now, record.observation ?? undefined),
        }, [WRITE_PLAN]),
      );
    case 'gate_passed':
    case 'gate_failed':
      return gateResult(record, event, now);
    case 'observe_window_elapsed':
      return windowElapsed(record, event, now);
    case 'rollback_requested':
      return rollbackRequested(record, event, now, event.reason);
    case 'effect_failed': {
      const why = `${event.effect} failed: ${event.message}`;
      if (s === 'rolling_back') return noop(record, `${why}; still rolling back (its effects are retried)`);
      if (s === 'rolled_back') return noop(record, `${why}; already rolled back`);
      if (s === 'promoted') return noop(record, `${why}; the promotion stands`);
      return enterRollback(record, event, now, why);
    }
    case 'rollback_complete':
      if (s === 'rolled_back') return noop(record, 'already rolled back');
      if (s !== 'rolling_back') throw illegal(s, 'rolled_back', event.type);
      return move(record, event, 'rolled_back', now, `rolled back to ${record.plan.baseline.lane}`, {
        activeFlags: [],
        warmUntil: null,
        finishedAt: now,
      }, [WRITE_WORKER_MANAGER, WRITE_PLAN]);
    case 'retention_elapsed':
      return retentionElapsed(record, event, now);
    case 'warm_elapsed':
      return warmElapsed(record, event, now);
    case 'resume':
      return resume(record, event, now);
  }
}

const WRITE_PLAN: Effect = { kind: 'write_plan' };
const WRITE_WORKER_MANAGER: Effect = { kind: 'write_worker_manager' };

function startCanary(record: DeploymentRecord): Effect {
  return { kind: 'start_canary_lane', lane: record.plan.candidate.lane, image: record.plan.candidate.image };
}

function switchTo(record: DeploymentRecord, side: 'candidate' | 'baseline'): Effect {
  const { candidate, baseline } = record.plan;
  return side === 'candidate'
    ? { kind: 'switch_proxy', to: candidate.lane, from: baseline.lane }
    : { kind: 'switch_proxy', to: baseline.lane, from: candidate.lane };
}

function setWeights(record: DeploymentRecord, weight: number): Effect {
  return { kind: 'set_weights', lane: record.plan.candidate.lane, weight };
}

function freshObservation(
  record: DeploymentRecord,
  phase: number,
  now: number,
  prior?: Observation,
  at: { step: number | null; weight: number } = { step: null, weight: 100 },
): Observation {
  return {
    phase,
    step: at.step,
    weight: at.weight,
    phaseStartedAt: now,
    phaseEndsAt: now + record.plan.observeMs,
    checks: prior?.checks ?? 0,
    failed: prior?.failed ?? 0,
    consecutiveFailed: prior?.consecutiveFailed ?? 0,
    lastReasons: prior?.lastReasons ?? [],
  };
}

function noop(record: DeploymentRecord, why: string): TransitionResult {
  return { record, effects: [], transition: null, onSuccess: null, noop: why };
}

function illegal(from: DeploymentState, to: DeploymentState, event: EventType): WvoError {
  return promotionErrors.create('WVO_ILLEGAL_TRANSITION', `illegal transition ${from} → ${to} (event ${event})`, {
    subject: `${from} → ${to}`,
    hint: 'check `wvo status`; a deployment moves shadowed → canary_live → switched → observing → promoted, or rolls back',
    details: { from, to, event },
  });
}

function move(
  record: DeploymentRecord,
  event: PromotionEvent,
  to: DeploymentState,
  now: number,
  reason: string,
  changes: Partial<DeploymentRecord>,
  effects: readonly Effect[],
  onSuccess: PromotionEvent | null = null,
): TransitionResult {
  if (!isLegalTransition(record.state, to)) throw illegal(record.state, to, event.type);
  return {
    record: { ...record, ...changes, state: to, updatedAt: now },
    effects,
    transition: { from: record.state, to, event: event.type, reason, at: now },
    onSuccess,
    noop: null,
  };
}

/**
 * A step along the forward path: done once; repeating it (or arriving late) is a no-op. A plan
 * without weighted steps has no `weighted` on its path.
 */
function forward(
  record: DeploymentRecord,
  event: PromotionEvent,
  target: (typeof FORWARD_PATH)[number],
  apply: () => TransitionResult,
): TransitionResult {
  const weighted = weightedSteps(record.plan.canarySteps).length > 0;
  const path: readonly DeploymentState[] = weighted ? FORWARD_PATH : FORWARD_PATH.filter((s) => s !== 'weighted');
  if (forwardIndex(record.state) < 0) throw illegal(record.state, target, event.type);
  const here = path.indexOf(record.state);
  const there = path.indexOf(target);
  if (here >= there) return noop(record, `${event.type}: already ${record.state} (at or past ${target})`);
  if (here === there - 1) return apply();
  throw illegal(record.state, target, event.type);
}

function requireObserving(record: DeploymentRecord, event: PromotionEvent): Observation | TransitionResult {
  if ((record.state === 'observing' || record.state === 'weighted') && record.observation) return record.observation;
  if (forwardIndex(record.state) < forwardIndex('observing') && forwardIndex(record.state) >= 0) {
    throw illegal(record.state, 'observing', event.type);
  }
  return noop(record, `${event.type}: observation is over (state ${record.state})`);
}

function gateResult(
  record: DeploymentRecord,
  event: Extract<PromotionEvent, { type: 'gate_passed' | 'gate_failed' }>,
  now: number,
): TransitionResult {
  const obs = requireObserving(record, event);
  if ('noop' in obs) return obs;
  const analyses = event.analysis ? [...record.analyses, event.analysis].slice(-MAX_INTERVAL_RECORDS) : record.analyses;
  if (event.type === 'gate_passed') {
    const observation = { ...obs, checks: obs.checks + 1, consecutiveFailed: 0, lastReasons: [] };
    return { record: { ...record, observation, analyses, updatedAt: now }, effects: [], transition: null, onSuccess: null, noop: null };
  }
  const observation: Observation = {
    ...obs,
    checks: obs.checks + 1,
    failed: obs.failed + 1,
    consecutiveFailed: obs.consecutiveFailed + 1,
    lastReasons: [...event.reasons],
  };
  const decision = failureDecision(observation, record.plan.maxFailedChecks, record.plan.failureMode);
  const reasons = event.reasons.join('; ');
  const updated = { ...record, observation, analyses };
  if (decision.rollback) return enterRollback(updated, event, now, `gates failed (${decision.reason}): ${reasons}`);
  return move(updated, event, record.state, now, `gate failed (${decision.reason}): ${reasons}`, {}, []);
}

function windowElapsed(record: DeploymentRecord, event: PromotionEvent, now: number): TransitionResult {
  const obs = requireObserving(record, event);
  if ('noop' in obs) return obs;
  if (now < obs.phaseEndsAt) {
    return noop(record, `observe window of phase ${obs.phase} ends in ${formatDuration(obs.phaseEndsAt - now)}`);
  }
  if (record.state === 'weighted') return stepElapsed(record, event, now, obs);
  const next = record.plan.flags[obs.phase];
  if (next) {
    return move(record, event, 'observing', now, `phase ${obs.phase} observed clean; set ${next.name}=${next.value} and observe`, {
      activeFlags: [...record.activeFlags, next],
      observation: freshObservation(record, obs.phase + 1, now, obs),
    }, [{ kind: 'flip_flag', lane: record.plan.candidate.lane, flag: next.name, value: next.value }, WRITE_PLAN]);
  }
  const clean = `observed ${obs.phase + 1} phase(s) clean (${obs.failed} failed checks of ${obs.checks})`;
  const { keepWarmMs, baseline } = record.plan;
  if (keepWarmMs > 0) {
    return move(record, event, 'promoted', now, `${clean}; ${baseline.lane} kept running ${formatDuration(keepWarmMs)} for an instant rollback`, {
      promotedAt: now,
      retentionEndsAt: now + record.plan.retentionMs,
      warmUntil: now + keepWarmMs,
    }, [WRITE_WORKER_MANAGER, WRITE_PLAN]);
  }
  return move(record, event, 'promoted', now, clean, {
    promotedAt: now,
    retentionEndsAt: now + record.plan.retentionMs,
  }, [{ kind: 'stop_lane', lane: baseline.lane }, WRITE_WORKER_MANAGER, WRITE_PLAN]);
}

/** A weighted step observed to its end: the next weight, or (after the last) the switch. */
function stepElapsed(record: DeploymentRecord, event: PromotionEvent, now: number, obs: Observation): TransitionResult {
  const steps = weightedSteps(record.plan.canarySteps);
  const index = obs.step ?? 0;
  const { candidate } = record.plan;
  const done = `step ${index + 1}/${steps.length} (${obs.weight}%) observed (${obs.failed} failed checks of ${obs.checks})`;
  const next = steps[index + 1];
  if (next !== undefined) {
    return move(record, event, 'weighted', now, `${done}; ${next}% of new sessions to ${candidate.lane}`, {
      observation: freshObservation(record, 0, now, obs, { step: index + 1, weight: next }),
    }, [setWeights(record, next), WRITE_WORKER_MANAGER, WRITE_PLAN]);
  }
  return move(record, event, 'switched', now, `${done}; switching all traffic to ${candidate.lane}`, { switchedAt: now }, [
    switchTo(record, 'candidate'),
    WRITE_WORKER_MANAGER,
    WRITE_PLAN,
  ], { type: 'switched' });
}

function rollbackRequested(record: DeploymentRecord, event: PromotionEvent, now: number, reason: string): TransitionResult {
  if (record.state === 'rolling_back') return noop(record, 'already rolling back');
  if (record.state === 'rolled_back') return noop(record, 'already rolled back');
  if (record.state === 'promoted') {
    if (record.baselineRemoved || (record.retentionEndsAt !== null && now >= record.retentionEndsAt)) {
      throw promotionErrors.create('WVO_RETENTION_EXPIRED', `deployment ${record.id}: the retention window ended, ${record.plan.baseline.lane} is gone`, {
        subject: record.id,
        hint: 'promote the old version as a new upgrade instead (`wvo upgrade` from its source)',
      });
    }
  }
  return enterRollback(record, event, now, reason);
}

function enterRollback(record: DeploymentRecord, event: PromotionEvent, now: number, reason: string): TransitionResult {
  const withRollback = { ...record, rollback: { from: record.state, reason, requestedAt: now } };
  return move(withRollback, event, 'rolling_back', now, reason, {}, rollbackEffects(withRollback), {
    type: 'rollback_complete',
  });
}

/**
 * Undo in reverse: flags in reverse order, then traffic back to the baseline (restarted first
 * if it was stopped by promotion), then the candidate stopped. Derived from `rollback.from`, so
 * the same list is issued again when a rollback is resumed.
 */
export function rollbackEffects(record: DeploymentRecord): Effect[] {
  const from = record.rollback?.from ?? record.state;
  const { baseline, candidate } = record.plan;
  if (from === 'shadowed') return [WRITE_PLAN];
  if (from === 'canary_live') return [{ kind: 'stop_lane', lane: candidate.lane }, WRITE_PLAN];
  const effects: Effect[] = [];
  if (from === 'promoted') effects.push({ kind: 'start_lane', lane: baseline.lane, image: baseline.image });
  for (const flag of [...record.activeFlags].reverse()) {
    effects.push({ kind: 'revert_flag', lane: candidate.lane, flag: flag.name, value: flag.revertTo });
  }
  effects.push(switchTo(record, 'baseline'), { kind: 'stop_lane', lane: candidate.lane }, WRITE_WORKER_MANAGER, WRITE_PLAN);
  return effects;
}

function warmElapsed(record: DeploymentRecord, event: PromotionEvent, now: number): TransitionResult {
  if (record.state !== 'promoted') return noop(record, `the keep-warm window applies to promoted deployments (state ${record.state})`);
  if (record.warmUntil === null) return noop(record, `${record.plan.baseline.lane} is not kept warm`);
  if (now < record.warmUntil) return noop(record, `${record.plan.baseline.lane} kept warm for ${formatDuration(record.warmUntil - now)} more`);
  return move(record, event, 'promoted', now, `keep-warm window over: stop ${record.plan.baseline.lane} (kept for rollback)`, {
    warmUntil: null,
  }, [{ kind: 'stop_lane', lane: record.plan.baseline.lane }, WRITE_WORKER_MANAGER, WRITE_PLAN]);
}

function retentionElapsed(record: DeploymentRecord, event: PromotionEvent, now: number): TransitionResult {
  if (record.state !== 'promoted') return noop(record, `retention applies to promoted deployments (state ${record.state})`);
  if (record.baselineRemoved) return noop(record, `${record.plan.baseline.lane} already removed`);
  if (record.retentionEndsAt !== null && now < record.retentionEndsAt) {
    return noop(record, `retention ends in ${formatDuration(record.retentionEndsAt - now)}`);
  }
  return move(record, event, 'promoted', now, `retention ended: remove ${record.plan.baseline.lane}`, {
    baselineRemoved: true,
    warmUntil: null,
  }, [{ kind: 'remove_lane', lane: record.plan.baseline.lane }, WRITE_PLAN]);
}

function resume(record: DeploymentRecord, event: Extract<PromotionEvent, { type: 'resume' }>, now: number): TransitionResult {
  const decision = resumeDecision(record);
  const reason = `${event.reason ?? 'resumed'}: ${decision.reason}`;
  switch (decision.action) {
    case 'rollback':
      return enterRollback(record, event, now, reason);
    case 'finish_rollback':
      return {
        record: { ...record, updatedAt: now },
        effects: rollbackEffects(record),
        transition: { from: 'rolling_back', to: 'rolling_back', event: 'resume', reason, at: now },
        onSuccess: { type: 'rollback_complete' },
        noop: null,
      };
    case 'continue':
      if (record.state === 'shadowed') {
        const started = transition(record, { type: 'start' }, now);
        return { ...started, transition: started.transition && { ...started.transition, event: 'resume', reason } };
      }
      return resumeObserving(record, event, now, reason);
    case 'none':
      if (record.state === 'promoted' && !record.baselineRemoved) {
        if (record.warmUntil !== null && now < record.warmUntil) {
          return noop(record, `${decision.reason}; ${record.plan.baseline.lane} kept warm for ${formatDuration(record.warmUntil - now)} more`);
        }
        // The stop of the old lane may not have happened before the crash: re-assert it.
        return move(record, event, 'promoted', now, reason, { warmUntil: null }, [
          { kind: 'stop_lane', lane: record.plan.baseline.lane },
          WRITE_WORKER_MANAGER,
          WRITE_PLAN,
        ]);
      }
      return noop(record, decision.reason);
  }
}

/**
 * Re-assert the switch and every active flag (idempotent), then restart the current phase; in a
 * weighted step, re-assert its weight and restart the step.
 */
function resumeObserving(record: DeploymentRecord, event: PromotionEvent, now: number, reason: string): TransitionResult {
  if (record.state === 'weighted') {
    const steps = weightedSteps(record.plan.canarySteps);
    const step = Math.min(record.observation?.step ?? 0, steps.length - 1);
    const weight = steps[step]!;
    return move(record, event, 'weighted', now, reason, {
      observation: freshObservation(record, 0, now, record.observation ?? undefined, { step, weight }),
    }, [setWeights(record, weight), WRITE_PLAN]);
  }
  const obs = record.observation ?? freshObservation(record, record.activeFlags.length, now);
  const effects: Effect[] = [switchTo(record, 'candidate')];
  for (const flag of record.activeFlags) {
    effects.push({ kind: 'flip_flag', lane: record.plan.candidate.lane, flag: flag.name, value: flag.value });
  }
  effects.push(WRITE_PLAN);
  return move(record, event, 'observing', now, reason, {
    observation: freshObservation(record, obs.phase, now, obs),
  }, effects);
}
