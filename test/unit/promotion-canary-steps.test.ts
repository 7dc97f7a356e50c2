import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/src/clock.js';
import { DeployOperations } from '../../controller/src/operations/index.js';
import {
  DeploymentStore,
  artifactWriters,
  parseCanarySteps,
  parsePromotionOptions,
  promotionPlanPath,
  readPromotionPlanFile,
  rollbackEffects,
  transition,
  type DeploymentRecord,
} from '../../controller/src/promotion/index.js';
import { InMemoryRunner, codeOf, recordIn, upgradeSummary } from './promotion-fixtures.js';

describe('canary steps: --steps / steps', () => {
  it('parses increasing percentages and implies the final 100 (the switch)', () => {
    expect(parseCanarySteps(undefined)).toEqual([100]);
    expect(parseCanarySteps('10,50,100')).toEqual([10, 50, 100]);
    expect(parseCanarySteps([25])).toEqual([25, 100]);
    expect(parseCanarySteps(' 5, 20 ')).toEqual([5, 20, 100]);
    expect(parsePromotionOptions({ steps: '10,50' }).steps).toEqual([10, 50, 100]);
    expect(parsePromotionOptions({}).steps).toEqual([100]);
  });

  it.each([
    ['0', 'steps[0]'],
    ['10,101', 'steps[1]'],
    ['10,-5', 'steps[1]'],
    ['50,10', 'steps[1]'],
    ['10,10', 'steps[1]'],
    ['12.5', 'steps[0]'],
    ['ten', 'steps[0]'],
    ['', '--steps'],
  ])('refuses %j naming %s, before anything starts', (input, subject) => {
    let thrown: unknown;
    try {
      parsePromotionOptions({ steps: input });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'WVO_PROMOTION_STEPS_INVALID', subject, exitCode: 2 });
  });

  it('the plan lists each weight with its own observation before the switch', () => {
    const record = recordIn('shadowed', { steps: '10,50' });
    expect(record.plan.canarySteps).toEqual([10, 50, 100]);
    expect(record.plan.steps.map((s) => `${s.kind}${s.weight ? ` ${s.weight}` : ''}`)).toEqual([
      'start_canary',
      'set_weight 10',
      'observe 10',
      'set_weight 50',
      'observe 50',
      'switch',
      'observe',
      'promote',
    ]);
  });
});

describe('state machine: weighted steps', () => {
  const at = (r: DeploymentRecord) => r.observation!.phaseEndsAt;

  it('walks canary_live → weighted 10 → weighted 50 → switched → observing → promoted, checks carried over', () => {
    let r = recordIn('canary_live', { steps: '10,50' });
    let step = transition(r, { type: 'canary_ready' }, 1e6);
    expect(step.record.state).toBe('weighted');
    expect(step.effects[0]).toEqual({ kind: 'set_weights', lane: 'green', weight: 10 });
    expect(step.record.observation).toMatchObject({ step: 0, weight: 10, checks: 0 });
    r = transition(step.record, { type: 'gate_passed' }, 1e6 + 1).record;
    r = transition(r, { type: 'gate_failed', reasons: ['x'] }, 1e6 + 2).record; // 1 of 2 allowed
    expect(r.state).toBe('weighted');
    expect(transition(r, { type: 'observe_window_elapsed' }, at(r) - 1).noop).toMatch(/ends in/);

    step = transition(r, { type: 'observe_window_elapsed' }, at(r));
    expect(step.record.state).toBe('weighted');
    expect(step.transition).toMatchObject({ from: 'weighted', to: 'weighted' });
    expect(step.effects[0]).toEqual({ kind: 'set_weights', lane: 'green', weight: 50 });
    expect(step.record.observation).toMatchObject({ step: 1, weight: 50, checks: 2, failed: 1 });

    r = step.record;
    step = transition(r, { type: 'observe_window_elapsed' }, at(r));
    expect(step.record.state).toBe('switched');
    expect(step.effects[0]).toEqual({ kind: 'switch_proxy', from: 'blue', to: 'green' });
    expect(step.onSuccess).toEqual({ type: 'switched' });

    step = transition(step.record, { type: 'switched' }, at(r) + 1);
    expect(step.record.state).toBe('observing');
    // One failure budget for the whole rollout: the failed check of step 1 still counts.
    expect(step.record.observation).toMatchObject({ phase: 0, step: null, weight: 100, checks: 2, failed: 1 });
    step = transition(step.record, { type: 'observe_window_elapsed' }, at(step.record));
    expect(step.record.state).toBe('promoted');
  });

  it('a failed weighted step rolls back: traffic back with rollback (the split ends at once), candidate stopped', () => {
    let r = recordIn('weighted', { steps: '10' });
    r = transition(r, { type: 'gate_failed', reasons: ['a'] }, r.updatedAt + 1).record;
    const result = transition(r, { type: 'gate_failed', reasons: ['analysis: tool dispatch errors 20%'] }, r.updatedAt + 2);
    expect(result.record.state).toBe('rolling_back');
    expect(result.record.rollback?.from).toBe('weighted');
    expect(result.effects.map((e) => e.kind)).toEqual(['switch_proxy', 'stop_lane', 'write_worker_manager', 'write_plan']);
    expect(result.effects[0]).toEqual({ kind: 'switch_proxy', from: 'green', to: 'blue' });
    expect(rollbackEffects(result.record)).toEqual(result.effects);
  });

  it('resume in a weighted step re-asserts its weight and restarts it (or rolls back by policy)', () => {
    let r = recordIn('canary_live', { steps: '10,50' });
    r = transition(r, { type: 'canary_ready' }, 1e6).record;
    r = transition(r, { type: 'observe_window_elapsed' }, at(r)).record; // now at 50 %
    const resumed = transition(r, { type: 'resume' }, at(r) + 5);
    expect(resumed.record.state).toBe('weighted');
    expect(resumed.effects[0]).toEqual({ kind: 'set_weights', lane: 'green', weight: 50 });
    expect(resumed.record.observation).toMatchObject({ step: 1, weight: 50, phaseStartedAt: at(r) + 5 });
    const strict = recordIn('weighted', { steps: '10', resumeObserving: 'rollback' });
    expect(transition(strict, { type: 'resume' }, strict.updatedAt + 1).record.state).toBe('rolling_back');
  });

  it('a one-step plan never enters weighted', () => {
    const r = recordIn('canary_live');
    expect(transition(r, { type: 'canary_ready' }, 1e6).record.state).toBe('switched');
    expect(codeOf(() => transition(recordIn('observing'), { type: 'canary_ready' }, 1e9))).toBeUndefined();
  });
});

describe('reconciler: a promotion with steps 10,50', () => {
  let dir: string;
  let clock: ManualClock;
  const stores: DeploymentStore[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wvo-canary-steps-'));
    clock = new ManualClock(Date.UTC(2026, 10, 28, 12));
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function operations(runner: InMemoryRunner) {
    const store = DeploymentStore.open(join(dir, 'state'));
    stores.push(store);
    const writers = artifactWriters({ experimentsRoot: join(dir, 'experiments'), stateRoot: join(dir, 'state'), clock });
    runner.writePlan = writers.writePlan;
    runner.writeWorkerManager = writers.writeWorkerManager;
    store.recordUpgrade(upgradeSummary(), clock.now());
    return { store, ops: new DeployOperations({ store, runner, proxy: runner.proxy, runtime: runner.runtime, clock, newId: () => 'dep-1' }) };
  }
  const OPTIONS = { steps: '10,50', observeMs: '30s', intervalMs: '10s', maxFailedChecks: 2, keepWarmMs: 0 };

  it('sets each weight, observes it, switches, promotes; every interval recorded with its weight', async () => {
    const runner = new InMemoryRunner(clock);
    const { store, ops } = operations(runner);
    const done = await ops.promote(OPTIONS);
    expect(done.state).toBe('promoted');
    expect(runner.actions()).toEqual(['start_canary_lane green', 'set_weights green=10', 'set_weights green=50', 'switch_proxy blue->green', 'stop_lane blue']);
    expect(store.transitions(done.id).map((t) => `${t.from}>${t.to}`)).toEqual([
      'shadowed>canary_live',
      'canary_live>weighted',
      'weighted>weighted',
      'weighted>switched',
      'switched>observing',
      'observing>promoted',
    ]);
    // The in-memory proxy reports requests only (no per-tool series): intervals are `insufficient`, the gates pass.
    const weights = done.analyses.map((a) => `${a.state}@${a.weight}:${a.comparison}:${a.verdict}`);
    expect(weights).toContain('weighted@10:live:insufficient');
    expect(weights).toContain('weighted@50:live:insufficient');
    expect(weights).toContain('observing@100:pre_switch:insufficient');
    const file = readPromotionPlanFile(promotionPlanPath(join(dir, 'experiments'), 'up-1'));
    expect(file.plan.canarySteps).toEqual([10, 50, 100]);
    expect(file.candidate_weight).toBe(100);
    expect(file.analyses).toHaveLength(done.analyses.length);
    expect(file.analyses[0]).toMatchObject({ state: 'weighted', weight: 10, gates: 'pass', at: expect.stringMatching(/Z$/) });
  });

  it('a candidate failing its calls is rolled back from a weighted step; the split ends with it', async () => {
    const runner = new InMemoryRunner(clock);
    runner.errorRate.set('green', 0.5);
    const { ops } = operations(runner);
    const done = await ops.promote(OPTIONS);
    expect(done.state).toBe('rolled_back');
    expect(done.rollback?.from).toBe('weighted');
    expect(done.rollback?.reason).toMatch(/error_rate/);
    // 10 % of this runner's 20 requests an interval is below minRequests: judged from 50 %, never switched.
    expect(runner.actions()).toEqual(['start_canary_lane green', 'set_weights green=10', 'set_weights green=50', 'switch_proxy green->blue', 'stop_lane green']);
    expect(runner.canary).toBeNull();
    expect(runner.active).toBe('blue');
  });

  it('a set_weights that fails (lane not answering) rolls back before any session moved', async () => {
    const runner = new InMemoryRunner(clock).fail('set_weights');
    const { ops } = operations(runner);
    const done = await ops.promote(OPTIONS);
    expect(done.state).toBe('rolled_back');
    expect(done.rollback?.from).toBe('weighted');
    expect(runner.active).toBe('blue');
  });
});

describe('controller.db migration 4', () => {
  it('rebuilds a version-3 deployments table (CHECK without weighted) keeping rows, history and leases', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wvo-store-v3-'));
    try {
      const clock = new ManualClock(1_000);
      const store = DeploymentStore.open(dir);
      store.recordUpgrade(upgradeSummary(), clock.now());
      const ops = new DeployOperations({ store, runner: new InMemoryRunner(clock), proxy: new InMemoryRunner(clock).proxy, runtime: new InMemoryRunner(clock).runtime, clock });
      const record = ops.reconciler.start(parsePromotionOptions({}), { holder: { owner: 'o', pid: 1, host: 'h' }, ttlMs: 10_000 });
      store.close();
      // Back to version 3: the old CHECK (no `weighted`), no analyses column.
      const db = new Database(join(dir, 'controller.db'));
      const sql = (db.prepare("SELECT sql FROM sqlite_master WHERE name = 'deployments'").get() as { sql: string }).sql;
      db.pragma('foreign_keys = OFF');
      db.exec(`CREATE TABLE old AS SELECT * FROM deployments; DROP TABLE deployments;
        ${sql.replace("'canary_live', 'weighted',", "'canary_live',").replace(",\n        analyses TEXT NOT NULL DEFAULT '[]'", '')};
        INSERT INTO deployments SELECT seq, id, upgrade_id, state, plan, baseline_lane, baseline_image, candidate_lane, candidate_image, active_flags, observation, rollback, created_at, updated_at, switched_at, promoted_at, retention_ends_at, finished_at, baseline_removed, version, warm_until FROM old;
        DROP TABLE old; DELETE FROM promotion_migrations WHERE version = 4;`);
      expect(() => db.prepare("UPDATE deployments SET state = 'weighted'").run()).toThrow(/CHECK/);
      db.close();

      const migrated = DeploymentStore.open(dir);
      expect(migrated.schemaVersion()).toBe(4);
      expect(migrated.get(record.id)).toMatchObject({ state: 'shadowed', analyses: [] });
      expect(migrated.lease(record.id)?.owner).toBe('o');
      expect(migrated.transitions(record.id)).toEqual([]);
      const check = new Database(join(dir, 'controller.db'));
      check.prepare("UPDATE deployments SET state = 'weighted'").run(); // the new CHECK takes it
      expect(check.pragma('foreign_key_check')).toEqual([]);
      check.close();
      migrated.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
