import { describe, expect, it } from 'vitest';
import { isWvoError } from '../../common/src/errors.js';
import {
  DEPLOYMENT_STATES,
  LEGAL_TRANSITIONS,
  isLegalTransition,
  resumeDecision,
  transition,
  type DeploymentState,
  type EventType,
  type PromotionEvent,
  type ResumeAction,
} from '../../controller/src/promotion/index.js';
import { recordIn } from './promotion-fixtures.js';

const EVENTS: Record<EventType, PromotionEvent> = {
  start: { type: 'start' },
  canary_ready: { type: 'canary_ready' },
  switched: { type: 'switched' },
  gate_passed: { type: 'gate_passed' },
  gate_failed: { type: 'gate_failed', reasons: ['error_rate: 0.5 > 0.05'] },
  observe_window_elapsed: { type: 'observe_window_elapsed' },
  rollback_requested: { type: 'rollback_requested', reason: 'operator' },
  effect_failed: { type: 'effect_failed', effect: 'start_canary_lane', message: 'not ready' },
  rollback_complete: { type: 'rollback_complete' },
  retention_elapsed: { type: 'retention_elapsed' },
  warm_elapsed: { type: 'warm_elapsed' },
  resume: { type: 'resume' },
};

/** Outcome of each event in each state, one tick after the state was reached. */
type Outcome = DeploymentState | 'noop' | 'illegal' | 'update';
const TABLE: Record<DeploymentState, Record<EventType, Outcome>> = {
  shadowed: {
    start: 'canary_live', canary_ready: 'illegal', switched: 'illegal', gate_passed: 'illegal', gate_failed: 'illegal',
    observe_window_elapsed: 'illegal', rollback_requested: 'rolling_back', effect_failed: 'rolling_back',
    rollback_complete: 'illegal', retention_elapsed: 'noop', warm_elapsed: 'noop', resume: 'canary_live',
  },
  canary_live: {
    start: 'noop', canary_ready: 'switched', switched: 'illegal', gate_passed: 'illegal', gate_failed: 'illegal',
    observe_window_elapsed: 'illegal', rollback_requested: 'rolling_back', effect_failed: 'rolling_back',
    rollback_complete: 'illegal', retention_elapsed: 'noop', warm_elapsed: 'noop', resume: 'rolling_back',
  },
  // Reached by a plan with one weighted step (10 %): see recordIn.
  weighted: {
    start: 'noop', canary_ready: 'noop', switched: 'illegal', gate_passed: 'update', gate_failed: 'weighted',
    observe_window_elapsed: 'noop', rollback_requested: 'rolling_back', effect_failed: 'rolling_back',
    rollback_complete: 'illegal', retention_elapsed: 'noop', warm_elapsed: 'noop', resume: 'weighted',
  },
  switched: {
    start: 'noop', canary_ready: 'noop', switched: 'observing', gate_passed: 'illegal', gate_failed: 'illegal',
    observe_window_elapsed: 'illegal', rollback_requested: 'rolling_back', effect_failed: 'rolling_back',
    rollback_complete: 'illegal', retention_elapsed: 'noop', warm_elapsed: 'noop', resume: 'rolling_back',
  },
  observing: {
    start: 'noop', canary_ready: 'noop', switched: 'noop', gate_passed: 'update', gate_failed: 'observing',
    observe_window_elapsed: 'noop', rollback_requested: 'rolling_back', effect_failed: 'rolling_back',
    rollback_complete: 'illegal', retention_elapsed: 'noop', warm_elapsed: 'noop', resume: 'observing',
  },
  promoted: {
    start: 'noop', canary_ready: 'noop', switched: 'noop', gate_passed: 'noop', gate_failed: 'noop',
    observe_window_elapsed: 'noop', rollback_requested: 'rolling_back', effect_failed: 'noop',
    rollback_complete: 'illegal', retention_elapsed: 'noop', warm_elapsed: 'noop', resume: 'promoted',
  },
  rolling_back: {
    start: 'illegal', canary_ready: 'illegal', switched: 'illegal', gate_passed: 'noop', gate_failed: 'noop',
    observe_window_elapsed: 'noop', rollback_requested: 'noop', effect_failed: 'noop',
    rollback_complete: 'rolled_back', retention_elapsed: 'noop', warm_elapsed: 'noop', resume: 'rolling_back',
  },
  rolled_back: {
    start: 'illegal', canary_ready: 'illegal', switched: 'illegal', gate_passed: 'noop', gate_failed: 'noop',
    observe_window_elapsed: 'noop', rollback_requested: 'noop', effect_failed: 'noop',
    rollback_complete: 'noop', retention_elapsed: 'noop', warm_elapsed: 'noop', resume: 'noop',
  },
};

const cases = DEPLOYMENT_STATES.flatMap((state) =>
  (Object.keys(EVENTS) as EventType[]).map((event) => ({ state, event, outcome: TABLE[state][event] })),
);

describe('promotion state machine: every event in every state', () => {
  it.each(cases)('$state + $event → $outcome', ({ state, event, outcome }) => {
    const record = recordIn(state);
    const now = record.updatedAt + 1;
    if (outcome === 'illegal') {
      let thrown: unknown;
      try {
        transition(record, EVENTS[event], now);
      } catch (error) {
        thrown = error;
      }
      expect(isWvoError(thrown) && thrown.code).toBe('WVO_ILLEGAL_TRANSITION');
      if (isWvoError(thrown)) {
        expect(thrown.details?.from).toBe(state);
        expect(thrown.message).toContain(`${state} →`);
      }
      return;
    }
    const result = transition(record, EVENTS[event], now);
    if (outcome === 'noop') {
      expect(result.noop).toMatch(/\S/);
      expect(result.record).toBe(record);
      expect(result.effects).toEqual([]);
      expect(result.transition).toBeNull();
      return;
    }
    expect(result.noop).toBeNull();
    if (outcome === 'update') {
      expect(result.record.state).toBe(state);
      expect(result.transition).toBeNull();
      return;
    }
    expect(result.record.state).toBe(outcome);
    expect(result.transition).toMatchObject({ from: state, to: outcome, event, at: now });
    expect(result.transition?.reason).toMatch(/\S/);
    expect(isLegalTransition(state, outcome)).toBe(true);
  });

  it('the table exercises every legal edge, and only legal edges', () => {
    const exercised = new Set<string>();
    for (const { state, event, outcome } of cases) {
      if (DEPLOYMENT_STATES.includes(outcome as DeploymentState)) exercised.add(`${state}>${outcome}`);
      void event;
    }
    exercised.add('observing>promoted'); // window elapsed: tested below (needs time to pass)
    exercised.add('promoted>promoted'); // retention elapsed: tested below
    exercised.add('canary_live>weighted'); // a plan with steps: tested in promotion-canary-steps
    exercised.add('weighted>switched'); // the last step's window elapsed: tested there too
    const legal = DEPLOYMENT_STATES.flatMap((from) => LEGAL_TRANSITIONS[from].map((to) => `${from}>${to}`));
    expect([...exercised].sort()).toEqual(legal.sort());
  });

  it('legal edges are exactly the documented graph', () => {
    const edges = DEPLOYMENT_STATES.flatMap((from) =>
      DEPLOYMENT_STATES.filter((to) => isLegalTransition(from, to)).map((to) => `${from}>${to}`),
    );
    expect(edges.sort()).toEqual(
      [
        'shadowed>canary_live', 'canary_live>switched', 'switched>observing', 'observing>promoted',
        'observing>observing', 'promoted>promoted',
        'canary_live>weighted', 'weighted>weighted', 'weighted>switched', 'weighted>rolling_back',
        'shadowed>rolling_back', 'canary_live>rolling_back', 'switched>rolling_back', 'observing>rolling_back',
        'promoted>rolling_back', 'rolling_back>rolling_back', 'rolling_back>rolled_back',
      ].sort(),
    );
  });
});

describe('promotion state machine: steps', () => {
  it('start asks for the canary, then the switch, and says which event completes each', () => {
    const r1 = transition(recordIn('shadowed'), { type: 'start' }, 1);
    expect(r1.effects.map((e) => e.kind)).toEqual(['start_canary_lane', 'write_plan']);
    expect(r1.effects[0]).toEqual({ kind: 'start_canary_lane', lane: 'green', image: 'wvo-worker:up-1' });
    expect(r1.onSuccess).toEqual({ type: 'canary_ready' });
    const r2 = transition(r1.record, { type: 'canary_ready' }, 2);
    expect(r2.effects[0]).toEqual({ kind: 'switch_proxy', to: 'green', from: 'blue' });
    expect(r2.onSuccess).toEqual({ type: 'switched' });
    expect(r2.record.switchedAt).toBe(2);
  });

  it('a completed step applied twice does nothing and says why', () => {
    const once = transition(recordIn('canary_live'), { type: 'canary_ready' }, 5);
    const twice = transition(once.record, { type: 'canary_ready' }, 6);
    expect(twice.noop).toBe('canary_ready: already switched (at or past switched)');
    expect(twice.effects).toEqual([]);
  });

  it('flips flags one at a time, each with its own window, then promotes and stops the baseline', () => {
    let record = recordIn('observing', { flags: 'PROMPT_MODE,SANDBOX_MODE=strict' });
    const start = record.updatedAt;
    const early = transition(record, { type: 'observe_window_elapsed' }, start + 59_999);
    expect(early.noop).toBe('observe window of phase 0 ends in 1ms');

    const flip1 = transition(record, { type: 'observe_window_elapsed' }, start + 60_000);
    expect(flip1.effects[0]).toEqual({ kind: 'flip_flag', lane: 'green', flag: 'PROMPT_MODE', value: 'on' });
    expect(flip1.record.activeFlags.map((f) => f.name)).toEqual(['PROMPT_MODE']);
    expect(flip1.record.observation).toMatchObject({ phase: 1, phaseEndsAt: start + 120_000 });
    record = flip1.record;

    const flip2 = transition(record, { type: 'observe_window_elapsed' }, start + 120_000);
    expect(flip2.effects[0]).toEqual({ kind: 'flip_flag', lane: 'green', flag: 'SANDBOX_MODE', value: 'strict' });
    record = flip2.record;

    const done = transition(record, { type: 'observe_window_elapsed' }, start + 180_000);
    expect(done.record.state).toBe('promoted');
    expect(done.effects.map((e) => e.kind)).toEqual(['stop_lane', 'write_worker_manager', 'write_plan']);
    expect(done.effects[0]).toEqual({ kind: 'stop_lane', lane: 'blue' });
    expect(done.record.retentionEndsAt).toBe(start + 180_000 + 24 * 3_600_000);
  });

  it('N failed gate checks roll back, reverting flags in reverse order before switching back', () => {
    let record = recordIn('observing', { flags: ['PROMPT_MODE', 'SANDBOX_MODE', 'SELECTIVE_TESTS'] });
    let now = record.updatedAt;
    for (let i = 0; i < 3; i++) record = transition(record, { type: 'observe_window_elapsed' }, (now += 60_000)).record;
    expect(record.activeFlags).toHaveLength(3);
    const fail1 = transition(record, { type: 'gate_failed', reasons: ['p95_latency: 2400 > 1000'] }, (now += 1));
    expect(fail1.record.state).toBe('observing');
    expect(fail1.transition?.reason).toContain('1 failed checks of 2 allowed');
    const fail2 = transition(fail1.record, { type: 'gate_failed', reasons: ['error_rate: 0.5 > 0.05'] }, (now += 1));
    expect(fail2.record.state).toBe('rolling_back');
    expect(fail2.transition?.reason).toContain('2 failed checks reached maxFailedChecks 2');
    expect(fail2.transition?.reason).toContain('error_rate: 0.5 > 0.05');
    expect(fail2.effects).toEqual([
      { kind: 'revert_flag', lane: 'green', flag: 'SELECTIVE_TESTS', value: 'off' },
      { kind: 'revert_flag', lane: 'green', flag: 'SANDBOX_MODE', value: 'off' },
      { kind: 'revert_flag', lane: 'green', flag: 'PROMPT_MODE', value: 'off' },
      { kind: 'switch_proxy', to: 'blue', from: 'green' },
      { kind: 'stop_lane', lane: 'green' },
      { kind: 'write_worker_manager' },
      { kind: 'write_plan' },
    ]);
    expect(fail2.onSuccess).toEqual({ type: 'rollback_complete' });
    const done = transition(fail2.record, { type: 'rollback_complete' }, now + 1);
    expect(done.record.activeFlags).toEqual([]);
    expect(done.record.finishedAt).toBe(now + 1);
  });

  it('a passing check resets the consecutive count (consecutive mode)', () => {
    let record = recordIn('observing', { failureMode: 'consecutive', maxFailedChecks: 2 });
    const fail = { type: 'gate_failed', reasons: ['x'] } as const;
    record = transition(record, fail, 1).record;
    record = transition(record, { type: 'gate_passed' }, 2).record;
    record = transition(record, fail, 3).record;
    expect(record.state).toBe('observing');
    expect(record.observation).toMatchObject({ checks: 3, failed: 2, consecutiveFailed: 1 });
    expect(transition(record, fail, 4).record.state).toBe('rolling_back');
  });

  it('rollback from canary_live only stops the candidate (traffic never moved)', () => {
    const r = transition(recordIn('canary_live'), { type: 'effect_failed', effect: 'start_canary_lane', message: 'unhealthy' }, 1);
    expect(r.effects).toEqual([{ kind: 'stop_lane', lane: 'green' }, { kind: 'write_plan' }]);
    expect(r.record.rollback).toMatchObject({ from: 'canary_live', reason: 'start_canary_lane failed: unhealthy' });
  });

  it('rollback after promotion restarts the kept baseline first; after retention it is refused', () => {
    const promoted = recordIn('promoted', { flags: [] });
    const r = transition(promoted, { type: 'rollback_requested', reason: 'operator' }, promoted.updatedAt + 1);
    expect(r.effects.map((e) => e.kind)).toEqual(['start_lane', 'switch_proxy', 'stop_lane', 'write_worker_manager', 'write_plan']);
    expect(r.effects[0]).toEqual({ kind: 'start_lane', lane: 'blue', image: 'wvo-worker:v1' });
    let thrown: unknown;
    try {
      transition(promoted, { type: 'rollback_requested', reason: 'late' }, promoted.retentionEndsAt!);
    } catch (error) {
      thrown = error;
    }
    expect(isWvoError(thrown) && thrown.code).toBe('WVO_RETENTION_EXPIRED');
  });

  it('keepWarm: promoted with the baseline still running; warm_elapsed stops it once, not before its time', () => {
    const promoted = recordIn('promoted', { keepWarmMs: '30s' });
    expect(promoted.warmUntil).toBe(promoted.promotedAt! + 30_000);
    const promotion = transition(recordIn('observing', { keepWarmMs: '30s', flags: [] }), { type: 'observe_window_elapsed' }, 10 * 3_600_000);
    expect(promotion.record.state).toBe('promoted');
    expect(promotion.effects.map((e) => e.kind)).toEqual(['write_worker_manager', 'write_plan']); // no stop_lane
    expect(promotion.transition?.reason).toMatch(/blue kept running 30s/);

    expect(transition(promoted, { type: 'warm_elapsed' }, promoted.warmUntil! - 1).noop).toMatch(/kept warm for/);
    const stopped = transition(promoted, { type: 'warm_elapsed' }, promoted.warmUntil!);
    expect(stopped.effects[0]).toEqual({ kind: 'stop_lane', lane: 'blue' });
    expect(stopped.record).toMatchObject({ state: 'promoted', warmUntil: null });
    expect(transition(stopped.record, { type: 'warm_elapsed' }, promoted.warmUntil! + 1).noop).toBe('blue is not kept warm');
    // Without keepWarm the baseline stops at promotion and warm_elapsed has nothing to do.
    expect(recordIn('promoted').warmUntil).toBeNull();
  });

  it('keepWarm: resume inside the window leaves the warm lane alone, after it stops it; a rollback clears the window', () => {
    const promoted = recordIn('promoted', { keepWarmMs: '30s' });
    expect(transition(promoted, { type: 'resume' }, promoted.warmUntil! - 1).noop).toMatch(/kept warm/);
    const late = transition(promoted, { type: 'resume' }, promoted.warmUntil! + 1);
    expect(late.effects[0]).toEqual({ kind: 'stop_lane', lane: 'blue' });
    expect(late.record.warmUntil).toBeNull();
    const rolling = transition(promoted, { type: 'rollback_requested', reason: 'operator' }, promoted.warmUntil! - 1);
    expect(rolling.effects[0]).toEqual({ kind: 'start_lane', lane: 'blue', image: 'wvo-worker:v1' }); // idempotent: blue is running
    const done = transition(rolling.record, { type: 'rollback_complete' }, promoted.warmUntil!);
    expect(done.record).toMatchObject({ state: 'rolled_back', warmUntil: null });
    expect(transition(done.record, { type: 'warm_elapsed' }, promoted.warmUntil! + 1).noop).toMatch(/promoted deployments/);
  });

  it('retention elapsed removes the baseline once', () => {
    const promoted = recordIn('promoted');
    const r = transition(promoted, { type: 'retention_elapsed' }, promoted.retentionEndsAt!);
    expect(r.effects[0]).toEqual({ kind: 'remove_lane', lane: 'blue' });
    expect(r.transition).toMatchObject({ from: 'promoted', to: 'promoted' });
    expect(transition(r.record, { type: 'retention_elapsed' }, promoted.retentionEndsAt! + 1).noop).toBe('blue already removed');
  });
});

describe('resumeDecision', () => {
  const EXPECTED: Record<DeploymentState, ResumeAction> = {
    shadowed: 'continue',
    canary_live: 'rollback',
    weighted: 'continue',
    switched: 'rollback',
    observing: 'continue',
    promoted: 'none',
    rolling_back: 'finish_rollback',
    rolled_back: 'none',
  };
  it.each(DEPLOYMENT_STATES.map((s) => [s, EXPECTED[s]] as const))('%s → %s', (state, action) => {
    const decision = resumeDecision(recordIn(state));
    expect(decision.action).toBe(action);
    expect(decision.reason).toMatch(/\S/);
  });

  it('observing honours resumeObserving=rollback', () => {
    expect(resumeDecision(recordIn('observing', { resumeObserving: 'rollback' })).action).toBe('rollback');
    expect(transition(recordIn('observing', { resumeObserving: 'rollback' }), { type: 'resume' }, 1e9).record.state).toBe(
      'rolling_back',
    );
  });

  it('resume while observing re-asserts the switch and every active flag and restarts the phase', () => {
    let record = recordIn('observing', { flags: 'PROMPT_MODE,SELECTIVE_TESTS' });
    record = transition(record, { type: 'observe_window_elapsed' }, record.updatedAt + 60_000).record;
    const r = transition(record, { type: 'resume' }, record.updatedAt + 5_000);
    expect(r.effects.map((e) => e.kind)).toEqual(['switch_proxy', 'flip_flag', 'write_plan']);
    expect(r.record.observation).toMatchObject({ phase: 1, phaseEndsAt: record.updatedAt + 5_000 + 60_000 });
  });

  it('resume while rolling back issues the same rollback effects again', () => {
    let record = recordIn('observing', { flags: 'PROMPT_MODE' });
    record = transition(record, { type: 'observe_window_elapsed' }, record.updatedAt + 60_000).record;
    const first = transition(record, { type: 'rollback_requested', reason: 'op' }, record.updatedAt + 1);
    const again = transition(first.record, { type: 'resume' }, first.record.updatedAt + 1);
    expect(again.effects).toEqual(first.effects);
    expect(again.onSuccess).toEqual({ type: 'rollback_complete' });
  });
});
