import {
  buildPromotionPlan,
  newDeploymentRecord,
  parsePromotionOptions,
  transition,
  type DeploymentRecord,
  type DeploymentState,
  type PromotionEvent,
  type PromotionOptionsInput,
  type UpgradeSummary,
} from '../../controller/src/promotion/index.js';

/** A harness summary that passes every promotion check. */
export function upgradeSummary(overrides: Partial<UpgradeSummary> = {}): UpgradeSummary {
  return {
    id: 'up-1',
    outcome: 'warnings',
    steps: [
      { name: 'preflight', status: 'ok' },
      { name: 'build', status: 'ok' },
      { name: 'test', status: 'ok' },
      { name: 'shadow', status: 'warning' },
      { name: 'schema-compat', status: 'ok' },
      { name: 'summary', status: 'ok' },
    ],
    baseline: { lane: 'blue', image: 'wvo-worker:v1' },
    candidate: { lane: 'green', image: 'wvo-worker:up-1' },
    ...overrides,
  };
}

export function plan(options: PromotionOptionsInput = {}) {
  return buildPromotionPlan(
    upgradeSummary(),
    parsePromotionOptions({ observeMs: '1m', intervalMs: '10s', maxFailedChecks: 2, ...options }),
  );
}

/** The events that walk a fresh deployment forward to `state` (flags: none). */
const WALK: Record<DeploymentState, PromotionEvent[]> = {
  shadowed: [],
  canary_live: [{ type: 'start' }],
  switched: [{ type: 'start' }, { type: 'canary_ready' }],
  observing: [{ type: 'start' }, { type: 'canary_ready' }, { type: 'switched' }],
  promoted: [{ type: 'start' }, { type: 'canary_ready' }, { type: 'switched' }, { type: 'observe_window_elapsed' }],
  rolling_back: [{ type: 'start' }, { type: 'rollback_requested', reason: 'test' }],
  rolled_back: [{ type: 'start' }, { type: 'rollback_requested', reason: 'test' }, { type: 'rollback_complete' }],
};

/** A record in `state`, reached through the machine itself; time advances 1 minute per event. */
export function recordIn(state: DeploymentState, options: PromotionOptionsInput = {}): DeploymentRecord {
  let record = newDeploymentRecord('dep-1', plan(options), 0);
  let now = 0;
  for (const event of WALK[state]) {
    now += 60_000;
    record = transition(record, event, now).record;
  }
  if (record.state !== state) throw new Error(`fixture walk ended in ${record.state}, not ${state}`);
  return record;
}
