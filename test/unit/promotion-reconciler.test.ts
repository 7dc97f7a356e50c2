import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/src/clock.js';
import { DeployOperations } from '../../controller/src/operations/index.js';
import {
  DeploymentStore,
  artifactWriters,
  parsePromotionOptions,
  promotionPlanPath,
  readPromotionPlanFile,
  type DeploymentRecord,
  type PromotionOptionsInput,
} from '../../controller/src/promotion/index.js';
import { readWorkerManagerFile } from '../../controller/src/promotion/worker-manager-file.js';
import { InMemoryRunner, upgradeSummary, type RunnerStep } from './promotion-fixtures.js';

let dir: string;
let clock: ManualClock;
const stores: DeploymentStore[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wvo-promotion-reconciler-'));
  clock = new ManualClock(Date.UTC(2026, 10, 28, 12));
});
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A controller "process": its own connection to controller.db and the promotion operations
 * `wvo promote|rollback|resume` and `wvo serve` run (promote = begin → drive), with their reconciler.
 */
function controller(runner: InMemoryRunner) {
  const store = DeploymentStore.open(join(dir, 'state'));
  stores.push(store);
  let n = 0;
  const operations = new DeployOperations({
    store,
    runner,
    proxy: runner.proxy,
    runtime: runner.runtime,
    clock,
    // The plans flip flags: a promotion refuses to begin without the workers' admin token.
    workerToken: 'worker-admin-token',
    newId: () => `dep-${++n}`,
    rollbackRetryMs: 10,
  });
  return { store, reconciler: operations.reconciler, operations };
}

const OPTIONS: PromotionOptionsInput = {
  observeMs: '1m',
  intervalMs: '10s',
  maxFailedChecks: 2,
  flags: 'PROMPT_MODE,SANDBOX_MODE',
  // These cases are about stopping the baseline at promotion (the default keeps it warm 30 s).
  keepWarmMs: 0,
};

function staged(store: DeploymentStore): void {
  store.recordUpgrade(upgradeSummary(), clock.now());
}

const FORWARD = [
  'start_canary_lane green',
  'switch_proxy blue->green',
  'flip_flag PROMPT_MODE=on',
  'flip_flag SANDBOX_MODE=on',
  'stop_lane blue',
];

describe('Reconciler', () => {
  it('happy path: canary, switch, flags one at a time each observed, promoted; files written', async () => {
    const runner = new InMemoryRunner(clock);
    const writers = artifactWriters({ experimentsRoot: join(dir, 'experiments'), stateRoot: join(dir, 'state'), clock });
    runner.writePlan = writers.writePlan;
    runner.writeWorkerManager = writers.writeWorkerManager;
    const { store, operations } = controller(runner);
    staged(store);
    const started = clock.now();
    const done = await operations.promote(OPTIONS);

    expect(done.state).toBe('promoted');
    expect(runner.actions()).toEqual(FORWARD);
    expect(runner.active).toBe('green');
    expect(runner.lanes.get('blue')).toBe('stopped'); // kept for rollback, not removed
    expect(Object.fromEntries(runner.flags)).toMatchObject({ PROMPT_MODE: 'on', SANDBOX_MODE: 'on' });
    // One interval of the baseline as the reference before the switch, then three phases (no
    // flag, PROMPT_MODE, SANDBOX_MODE) of 1 minute, checked every 10 s.
    expect(clock.now() - started).toBe(190_000);
    expect(done.observation).toMatchObject({ phase: 2, checks: 18, failed: 0 });
    expect(store.transitions(done.id).map((t) => `${t.from}>${t.to}`)).toEqual([
      'shadowed>canary_live',
      'canary_live>switched',
      'switched>observing',
      'observing>observing',
      'observing>observing',
      'observing>promoted',
    ]);

    const file = readPromotionPlanFile(promotionPlanPath(join(dir, 'experiments'), 'up-1'));
    expect(file.outcome).toBe('promoted');
    expect(file.transitions).toHaveLength(6);
    expect(file.plan.flags.map((f) => f.name)).toEqual(['PROMPT_MODE', 'SANDBOX_MODE']);
    expect(readWorkerManagerFile(join(dir, 'state'))).toMatchObject({
      active_lane: 'green',
      lanes: [{ name: 'blue', status: 'stopped' }, { name: 'green', status: 'active' }],
      deployment: { id: 'dep-1', state: 'promoted' },
    });
  });

  it('writes every transition before running its effects', async () => {
    const runner = new InMemoryRunner(clock);
    const { store, operations } = controller(runner);
    const observer = DeploymentStore.open(join(dir, 'state')); // another connection: what a restarted controller would see
    stores.push(observer);
    const seen: string[] = [];
    runner.onStep = (step, deployment) => {
      if (step === 'read_metrics' || step === 'write_plan' || step === 'write_worker_manager') return;
      const persisted = observer.get(deployment.id);
      const last = observer.transitions(deployment.id).at(-1)!;
      expect(persisted.version).toBe(deployment.version);
      expect(last.effects.map((e) => e.kind)).toContain(step);
      seen.push(`${step}@${persisted.state}`);
    };
    staged(store);
    await operations.promote(OPTIONS);
    expect(seen).toEqual([
      'start_canary_lane@canary_live',
      'switch_proxy@switched',
      'flip_flag@observing',
      'flip_flag@observing',
      'stop_lane@promoted',
    ]);
  });

  it('a candidate failing half its calls is rolled back automatically, flags reverted in reverse order', async () => {
    const runner = new InMemoryRunner(clock);
    const { store, operations } = controller(runner);
    staged(store);
    // Healthy until SANDBOX_MODE is flipped, then half of green's calls fail.
    const flip = runner.flipFlag.bind(runner);
    runner.flipFlag = async (effect, d) => {
      await flip(effect, d);
      if (effect.flag === 'SANDBOX_MODE') runner.errorRate.set('green', 0.5);
    };
    const done = await operations.promote(OPTIONS);

    expect(done.state).toBe('rolled_back');
    expect(runner.actions()).toEqual([
      'start_canary_lane green',
      'switch_proxy blue->green',
      'flip_flag PROMPT_MODE=on',
      'flip_flag SANDBOX_MODE=on',
      'revert_flag SANDBOX_MODE=off',
      'revert_flag PROMPT_MODE=off',
      'switch_proxy green->blue',
      'stop_lane green',
    ]);
    expect(runner.active).toBe('blue');
    expect([...runner.flags.values()]).toEqual(['off', 'off', 'off']);
    expect(done.activeFlags).toEqual([]);
    const history = store.transitions(done.id);
    const rollback = history.find((t) => t.to === 'rolling_back')!;
    expect(rollback.reason).toMatch(/^gates failed \(2 failed checks reached maxFailedChecks 2\): error_rate: candidate error rate 0\.5 > 0\.05/);
    expect(history.at(-1)).toMatchObject({ from: 'rolling_back', to: 'rolled_back' });
  });

  it('a canary that never gets ready is stopped; traffic never moves', async () => {
    const runner = new InMemoryRunner(clock).fail('start_canary_lane');
    const { store, operations } = controller(runner);
    staged(store);
    const done = await operations.promote(OPTIONS);
    expect(done.state).toBe('rolled_back');
    expect(runner.actions()).toEqual(['FAIL start_canary_lane green', 'stop_lane green']);
    expect(done.rollback?.reason).toBe('start_canary_lane failed: start_canary_lane failed (test)');
  });

  it('scrapes that fail count as failed checks', async () => {
    const runner = new InMemoryRunner(clock).fail('read_metrics', { times: 100 });
    const { store, operations } = controller(runner);
    staged(store);
    const done = await operations.promote({ ...OPTIONS, flags: [] });
    expect(done.state).toBe('rolled_back');
    expect(done.rollback?.reason).toContain('metrics: scrape failed');
  });

  it('refuses a second promotion while one runs, and a promotion with no staged upgrade', async () => {
    const runner = new InMemoryRunner(clock);
    const { store, reconciler, operations } = controller(runner);
    await expect(operations.promote(OPTIONS)).rejects.toMatchObject({ code: 'WVO_NO_STAGED_UPGRADE' });
    staged(store);
    reconciler.start(parsePromotionOptions(OPTIONS));
    await expect(operations.promote(OPTIONS)).rejects.toMatchObject({ code: 'WVO_PROMOTION_IN_PROGRESS' });
  });

  it('rollback after promotion restarts the kept baseline and rebuilds nothing', async () => {
    const runner = new InMemoryRunner(clock);
    const { store, reconciler, operations } = controller(runner);
    staged(store);
    await operations.promote(OPTIONS);
    runner.calls.length = 0;
    const done = await reconciler.rollback('operator: dashboards look wrong');
    expect(done.state).toBe('rolled_back');
    expect(runner.actions()).toEqual([
      'start_lane blue',
      'revert_flag SANDBOX_MODE=off',
      'revert_flag PROMPT_MODE=off',
      'switch_proxy green->blue',
      'stop_lane green',
    ]);
    await expect(reconciler.rollback('again')).rejects.toMatchObject({ code: 'WVO_NOTHING_TO_ROLL_BACK' });
  });

  it('keepWarm: the old lane runs on after promotion until the window ends, then stops once', async () => {
    const runner = new InMemoryRunner(clock);
    const { store, reconciler, operations } = controller(runner);
    staged(store);
    // The promotion as committed, seen from its own effects (before the keep-warm wait).
    let atPromotion: { record: DeploymentRecord; blue: string | undefined; actions: string[] } | undefined;
    runner.onStep = (_step, d) => {
      if (d.state === 'promoted' && !atPromotion) atPromotion = { record: d, blue: runner.lanes.get('blue'), actions: runner.actions() };
    };
    const after = await operations.promote({ ...OPTIONS, keepWarmMs: '2m' });
    const promoted = atPromotion!.record;
    expect(promoted).toMatchObject({ state: 'promoted', warmUntil: promoted.promotedAt! + 120_000 });
    expect(atPromotion!.blue).toBe('running');
    expect(atPromotion!.actions).not.toContain('stop_lane blue');
    // `wvo promote --keep-warm` waits the window out, then stops the old lane.
    expect(clock.now()).toBeGreaterThanOrEqual(promoted.warmUntil!);
    expect(after).toMatchObject({ id: promoted.id, state: 'promoted', warmUntil: null });
    expect(runner.lanes.get('blue')).toBe('stopped');
    expect(runner.actions().filter((a) => a === 'stop_lane blue')).toHaveLength(1);
    await reconciler.keepWarm(promoted.id); // nothing left to wait for
    await reconciler.expireWarm();
    expect(runner.actions().filter((a) => a === 'stop_lane blue')).toHaveLength(1);
  });

  it('keepWarm: a rollback inside the window moves traffic back to the running lane, never stops it', async () => {
    const runner = new InMemoryRunner(clock);
    const first = controller(runner);
    staged(first.store);
    // 30 s into the window, an operator rolls back from another process.
    let rollback: Promise<DeploymentRecord> | undefined;
    runner.onStep = (_step, d) => {
      if (d.state !== 'promoted' || rollback) return;
      clock.advance(30_000);
      rollback = controller(runner).operations.rollback({ reason: 'operator, inside the window' });
    };
    const promoter = await first.operations.promote({ ...OPTIONS, keepWarmMs: '2m' });
    const rolled = await rollback!;
    expect(rolled.state).toBe('rolled_back');
    expect(runner.active).toBe('blue');
    // The promoter's keep-warm wait ended with the rollback, not with a stop.
    expect(promoter).toMatchObject({ id: rolled.id, state: 'rolled_back', warmUntil: null });
    expect(runner.actions()).not.toContain('stop_lane blue');
    expect(runner.lanes.get('blue')).toBe('running');
  });

  it('keepWarm: a window nobody waited on (the promoter died) is closed by the next operation', async () => {
    // The promoter dies right after committing `promoted` (its first effect).
    const runner = new InMemoryRunner(clock).fail('write_worker_manager', { crash: true, when: (d) => d.state === 'promoted' });
    const first = controller(runner);
    staged(first.store);
    await expect(first.operations.promote({ ...OPTIONS, keepWarmMs: '2m' })).rejects.toThrow(/simulated controller crash/);
    const promoted = first.store.list(1)[0]!;
    expect(promoted).toMatchObject({ state: 'promoted', warmUntil: promoted.promotedAt! + 120_000 });
    const second = controller(runner).operations;
    await second.housekeeping();
    expect(runner.lanes.get('blue')).toBe('running'); // not yet
    clock.advance(120_000);
    await second.housekeeping();
    expect(runner.lanes.get('blue')).toBe('stopped');
    expect(first.store.get(promoted.id).warmUntil).toBeNull();
  });

  it('after the retention window the old lane is removed and rollback is refused', async () => {
    const runner = new InMemoryRunner(clock);
    const { store, reconciler, operations } = controller(runner);
    staged(store);
    const promoted = await operations.promote({ ...OPTIONS, retentionMs: '1h' });
    await reconciler.expireRetention();
    expect(runner.lanes.get('blue')).toBe('stopped');
    clock.advance(3_600_000);
    await reconciler.expireRetention();
    expect(runner.lanes.get('blue')).toBe('removed');
    await expect(reconciler.rollback('late', promoted.id)).rejects.toMatchObject({ code: 'WVO_RETENTION_EXPIRED' });
  });

  it('a rollback whose effects keep failing is retried, then left rolling_back for resume', async () => {
    const runner = new InMemoryRunner(clock).fail('stop_lane', { times: 3, when: (d) => d.state === 'rolling_back' });
    const { store, reconciler } = controller(runner);
    staged(store);
    const record = reconciler.start(parsePromotionOptions(OPTIONS));
    await reconciler.apply(record.id, { type: 'start' });
    await expect(reconciler.rollback('operator')).rejects.toMatchObject({ code: 'WVO_ROLLBACK_STUCK' });
    expect(store.get(record.id).state).toBe('rolling_back');
    expect(runner.calls.filter((c) => c.startsWith('FAIL'))).toHaveLength(3);
    const done = await controller(runner).reconciler.resume();
    expect(done?.state).toBe('rolled_back');
    expect(runner.active).toBe('blue');
  });
});

describe('two controllers', () => {
  it('`wvo rollback` from another process while one observes: the observer stops driving', async () => {
    const runner = new InMemoryRunner(clock);
    const a = controller(runner);
    const b = controller(runner);
    staged(a.store);
    let scrapes = 0;
    let rollbackByB: Promise<DeploymentRecord> | undefined;
    runner.onStep = (step, deployment) => {
      if (step !== 'read_metrics' || ++scrapes !== 3) return;
      runner.onStep = undefined;
      rollbackByB = b.reconciler.rollback('operator from another terminal', deployment.id);
    };
    const seenByA = await a.operations.promote(OPTIONS);
    expect(seenByA.state).not.toBe('promoted');
    await rollbackByB;
    const final = a.store.get(seenByA.id);
    expect(final.state).toBe('rolled_back');
    expect(final.rollback?.reason).toBe('operator from another terminal');
    // The rollback ran once, by b.
    expect(runner.actions().filter((c) => c === 'switch_proxy green->blue')).toHaveLength(1);
    expect(runner.active).toBe('blue');
  });
});

/** Where the controller dies, and how `wvo resume` must end. */
const CRASHES: Array<{ at: string; step: RunnerStep; when?: (d: DeploymentRecord) => boolean; ends: 'promoted' | 'rolled_back' }> = [
  { at: 'canary_live (starting the canary)', step: 'start_canary_lane', ends: 'rolled_back' },
  { at: 'switched (switching the proxy)', step: 'switch_proxy', ends: 'rolled_back' },
  { at: 'canary_live (scraping the baseline reference)', step: 'read_metrics', when: (d) => d.state === 'canary_live', ends: 'rolled_back' },
  { at: 'observing (scraping metrics)', step: 'read_metrics', when: (d) => d.state === 'observing', ends: 'promoted' },
  { at: 'observing (flipping the 2nd flag)', step: 'flip_flag', when: (d) => d.activeFlags.length === 2, ends: 'promoted' },
  { at: 'promoted (stopping the baseline)', step: 'stop_lane', when: (d) => d.state === 'promoted', ends: 'promoted' },
];

describe('crash of the controller at each state, then `wvo resume`', () => {
  it('shadowed (before anything started) → resume starts and finishes', async () => {
    const runner = new InMemoryRunner(clock);
    const first = controller(runner);
    staged(first.store);
    first.reconciler.start(parsePromotionOptions(OPTIONS)); // dies right after creating the record
    const done = await controller(runner).reconciler.resume();
    expect(done?.state).toBe('promoted');
    expect(runner.actions()).toEqual(FORWARD);
  });

  it.each(CRASHES)('$at → $ends', async ({ step, when, ends }) => {
    const runner = new InMemoryRunner(clock).fail(step, { crash: true, when });
    const first = controller(runner);
    staged(first.store);
    await expect(first.operations.promote(OPTIONS)).rejects.toThrow(/simulated controller crash/);
    const id = first.store.list(1)[0]!.id;

    const second = controller(runner); // a fresh controller on the same controller.db
    const done = (await second.reconciler.resume()) ?? (await second.reconciler.resume(id));
    expect(done?.state).toBe(ends);
    if (ends === 'promoted') {
      expect(runner.active).toBe('green');
      expect(Object.fromEntries(runner.flags)).toMatchObject({ PROMPT_MODE: 'on', SANDBOX_MODE: 'on' });
      expect(runner.lanes.get('blue')).toBe('stopped');
    } else {
      expect(runner.active).toBe('blue');
      expect([...runner.flags.values()]).toEqual(['off', 'off', 'off']);
      expect(runner.lanes.get('green')).not.toBe('running');
    }
    expect(second.store.running()).toBeUndefined();
    expect(second.store.transitions(id).some((t) => t.event === 'resume')).toBe(true);
  });

  it('rolling_back (crash while reverting flags) → resume finishes the rollback, every flag reverted', async () => {
    const runner = new InMemoryRunner(clock).fail('revert_flag', { crash: true, when: (d) => d.state === 'rolling_back' });
    const flip = runner.flipFlag.bind(runner);
    runner.flipFlag = async (effect, d) => {
      await flip(effect, d);
      if (effect.flag === 'SANDBOX_MODE') runner.errorRate.set('green', 0.5);
    };
    const first = controller(runner);
    staged(first.store);
    await expect(first.operations.promote(OPTIONS)).rejects.toThrow(/simulated controller crash/);
    expect(first.store.running()?.state).toBe('rolling_back');
    expect(runner.flags.get('SANDBOX_MODE')).toBe('on');

    const done = await controller(runner).reconciler.resume();
    expect(done?.state).toBe('rolled_back');
    expect([...runner.flags.values()]).toEqual(['off', 'off', 'off']);
    expect(runner.active).toBe('blue');
    expect(runner.actions().slice(-4)).toEqual([
      'revert_flag SANDBOX_MODE=off',
      'revert_flag PROMPT_MODE=off',
      'switch_proxy green->blue',
      'stop_lane green',
    ]);
  });

  it('observing with resumeObserving=rollback → resume rolls back and reverts flags', async () => {
    const runner = new InMemoryRunner(clock).fail('flip_flag', { crash: true, when: (d) => d.activeFlags.length === 2 });
    const first = controller(runner);
    staged(first.store);
    await expect(
      first.operations.promote({ ...OPTIONS, resumeObserving: 'rollback' }),
    ).rejects.toThrow(/simulated/);
    const done = await controller(runner).reconciler.resume();
    expect(done?.state).toBe('rolled_back');
    // SANDBOX_MODE's flip may or may not have happened: it is reverted either way.
    expect(runner.actions().slice(-4)).toEqual([
      'revert_flag SANDBOX_MODE=off',
      'revert_flag PROMPT_MODE=off',
      'switch_proxy green->blue',
      'stop_lane green',
    ]);
    expect([...runner.flags.values()]).toEqual(['off', 'off', 'off']);
  });

  it('resume with nothing running does nothing', async () => {
    const runner = new InMemoryRunner(clock);
    expect(await controller(runner).reconciler.resume()).toBeUndefined();
    expect(runner.calls).toEqual([]);
  });
});
