import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isWvoError } from '../../common/src/errors.js';
import {
  DeploymentStore,
  judgeLease,
  buildPromotionPlanFile,
  newDeploymentRecord,
  promotionPlanFileSchema,
  promotionPlanPath,
  readPromotionPlanFile,
  transition,
  workerManagerView,
  writePromotionPlanFile,
  type DeploymentRecord,
} from '../../controller/src/promotion/index.js';
import {
  readWorkerManagerFile,
  workerManagerPath,
  writeWorkerManagerFile,
} from '../../controller/src/promotion/worker-manager-file.js';
import { codeOf, plan, upgradeSummary } from './promotion-fixtures.js';

let dir: string;
const stores: DeploymentStore[] = [];
const open = () => {
  const store = DeploymentStore.open(dir);
  stores.push(store);
  return store;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wvo-promotion-store-'));
});
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function created(store: DeploymentStore, id = 'dep-1', upgradeId = 'up-1'): DeploymentRecord {
  store.recordUpgrade(upgradeSummary({ id: upgradeId }), 1);
  return store.createDeployment(newDeploymentRecord(id, { ...plan(), upgradeId }, 1));
}

describe('DeploymentStore', () => {
  it('creates controller.db in WAL mode with numbered migrations, once', () => {
    const store = open();
    expect(store.path).toBe(join(dir, 'controller.db'));
    expect(store.schemaVersion()).toBe(4);
    store.close();
    const again = open();
    expect(again.schemaVersion()).toBe(4);
    const db = new Database(join(dir, 'controller.db'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT COUNT(*) AS n FROM promotion_migrations').get()).toEqual({ n: 4 });
    db.close();
  });

  it('migrates a version-1 controller.db (no warm_until, no leases) and reads its rows with warmUntil null', () => {
    const first = open();
    created(first);
    first.close();
    const db = new Database(join(dir, 'controller.db'));
    db.exec('DROP TABLE deployment_leases; ALTER TABLE deployments DROP COLUMN warm_until; DELETE FROM promotion_migrations WHERE version >= 2;');
    db.close();
    const store = open();
    expect(store.schemaVersion()).toBe(4);
    expect(store.get('dep-1').warmUntil).toBeNull();
    expect(store.lease('dep-1')).toBeUndefined();
    const cols = new Database(join(dir, 'controller.db'), { readonly: true });
    expect((cols.prepare('PRAGMA table_info(deployments)').all() as Array<{ name: string }>).map((c) => c.name)).toContain('warm_until');
    cols.close();
    store.close();
  });

  it('refuses a database from a newer wvo', () => {
    open().close();
    const db = new Database(join(dir, 'controller.db'));
    db.prepare("INSERT INTO promotion_migrations VALUES (99, 'future', 0)").run();
    db.close();
    expect(codeOf(() => open())).toBe('WVO_CONTROLLER_DB_NEWER');
  });

  it('WVO_NO_STAGED_UPGRADE for an unknown id, or when nothing was staged', () => {
    const store = open();
    expect(codeOf(() => store.getUpgrade())).toBe('WVO_NO_STAGED_UPGRADE');
    expect(codeOf(() => store.getUpgrade('nope'))).toBe('WVO_NO_STAGED_UPGRADE');
    expect(codeOf(() => store.createDeployment(newDeploymentRecord('d', plan(), 1)))).toBe('WVO_NO_STAGED_UPGRADE');
    store.recordUpgrade(upgradeSummary({ id: 'a' }), 1);
    store.recordUpgrade(upgradeSummary({ id: 'b' }), 2);
    expect(store.getUpgrade().id).toBe('b');
    expect(store.getUpgrade('a').id).toBe('a');
  });

  it('round-trips a record through its columns and schema', () => {
    const store = open();
    const record = created(store);
    const moved = store.commit(transition(record, { type: 'start' }, 5));
    expect(store.get('dep-1')).toEqual(moved);
    expect(moved.version).toBe(2);
    expect(codeOf(() => store.get('missing'))).toBe('WVO_DEPLOYMENT_NOT_FOUND');
  });

  it('refuses a second running deployment — by the unique index, across connections', () => {
    const a = open();
    const b = open();
    created(a, 'dep-1', 'up-1');
    b.recordUpgrade(upgradeSummary({ id: 'up-2' }), 2);
    let thrown: unknown;
    try {
      b.createDeployment(newDeploymentRecord('dep-2', { ...plan(), upgradeId: 'up-2' }, 2));
    } catch (error) {
      thrown = error;
    }
    expect(isWvoError(thrown) && thrown.code).toBe('WVO_PROMOTION_IN_PROGRESS');
    expect(isWvoError(thrown) && thrown.details).toEqual({ running: 'dep-1', state: 'shadowed' });
    // The constraint itself, without any check in front of it:
    const db = new Database(join(dir, 'controller.db'));
    expect(() =>
      db.prepare("UPDATE deployments SET state = 'observing' WHERE id = 'dep-1'").run(),
    ).not.toThrow();
    expect(() =>
      db
        .prepare(
          `INSERT INTO deployments (id, upgrade_id, state, plan, baseline_lane, baseline_image, candidate_lane,
           candidate_image, active_flags, created_at, updated_at, version)
           VALUES ('x', 'up-2', 'canary_live', '{}', 'a', 'a', 'b', 'b', '[]', 0, 0, 1)`,
        )
        .run(),
    ).toThrow(/deployments_one_running/);
    db.close();
  });

  it('a settled deployment frees the slot; a rollback after promotion takes it again', () => {
    const store = open();
    let record = created(store);
    let t = 1e9;
    for (const e of [{ type: 'start' }, { type: 'canary_ready' }, { type: 'switched' }, { type: 'observe_window_elapsed' }] as const) {
      record = store.commit(transition(record, e, (t += 60_000)));
    }
    expect(record.state).toBe('promoted');
    expect(store.running()).toBeUndefined();
    const second = created(store, 'dep-2', 'up-2');
    expect(store.running()?.id).toBe('dep-2');
    // dep-2 runs: rolling dep-1 back now would need the slot, and dep-1 is superseded anyway.
    expect(codeOf(() => store.commit(transition(record, { type: 'rollback_requested', reason: 'x' }, t + 1)))).toBe(
      'WVO_ROLLBACK_SUPERSEDED',
    );
    const rolledBack = [{ type: 'rollback_requested', reason: 'x' }, { type: 'rollback_complete' }] as const;
    let s2 = second;
    for (const e of rolledBack) s2 = store.commit(transition(s2, e, 2e9));
    const again = store.commit(transition(record, { type: 'rollback_requested', reason: 'after dep-2 rolled back' }, t + 2));
    expect(again.state).toBe('rolling_back');
    expect(store.running()?.id).toBe('dep-1');
  });

  it('persists each transition with its effects in one transaction, and refuses a stale write', () => {
    const a = open();
    const b = open();
    const record = created(a);
    const result = transition(record, { type: 'start' }, 7);
    a.commit(result);
    expect(b.transitions('dep-1')).toEqual([
      {
        seq: 1,
        deploymentId: 'dep-1',
        from: 'shadowed',
        to: 'canary_live',
        event: 'start',
        reason: 'promote upgrade up-1',
        at: 7,
        effects: result.effects,
      },
    ]);
    // b acts on the version it read before a's commit: conflict, nothing written.
    expect(codeOf(() => b.commit(transition(record, { type: 'rollback_requested', reason: 'x' }, 8)))).toBe(
      'WVO_DEPLOYMENT_CONFLICT',
    );
    expect(b.get('dep-1').state).toBe('canary_live');
    expect(b.transitions('dep-1')).toHaveLength(1);
  });
});

describe('promotion_plan.json and worker_manager.json', () => {
  it('writes the plan file atomically and reads it back through its schema', () => {
    const store = open();
    let record = created(store);
    record = store.commit(transition(record, { type: 'start' }, 1_000));
    record = store.commit(transition(record, { type: 'canary_ready' }, 2_000));
    const path = writePromotionPlanFile(join(dir, 'experiments'), record, store.transitions(record.id));
    expect(path).toBe(promotionPlanPath(join(dir, 'experiments'), 'up-1'));
    expect(path).toBe(join(dir, 'experiments', 'mcp', 'upgrade', 'up-1', 'promotion_plan.json'));
    const file = readPromotionPlanFile(path);
    expect(file).toEqual(buildPromotionPlanFile(record, store.transitions(record.id)));
    expect(file.outcome).toBe('in_progress');
    expect(file.transitions.map((t) => [t.from, t.to, t.at])).toEqual([
      ['shadowed', 'canary_live', '1970-01-01T00:00:01.000Z'],
      ['canary_live', 'switched', '1970-01-01T00:00:02.000Z'],
    ]);
    expect(file.transitions[1]?.effects).toEqual(['switch_proxy blue → green', 'write_worker_manager', 'write_plan']);
    expect(() => promotionPlanFileSchema.parse({ ...file, outcome: 'maybe' })).toThrow();
    writeFileSync(path, '{"deployment_id": 1}');
    expect(codeOf(() => readPromotionPlanFile(path))).toBe('WVO_PROMOTION_PLAN_INVALID');
  });

  it('worker_manager.json follows the lanes through switch, promotion and retention', () => {
    const store = open();
    let record = created(store);
    expect(readWorkerManagerFile(dir)).toBeUndefined();
    for (const e of [{ type: 'start' }, { type: 'canary_ready' }] as const) record = store.commit(transition(record, e, 60_000));
    writeWorkerManagerFile(dir, workerManagerView(record, store.transitions(record.id), 61_000));
    expect(readWorkerManagerFile(dir)).toMatchObject({
      active_lane: 'green',
      lanes: [
        { name: 'blue', image: 'wvo-worker:v1', status: 'draining' },
        { name: 'green', image: 'wvo-worker:up-1', version: 'up-1', status: 'active' },
      ],
      versions: { blue: 'wvo-worker:v1', green: 'wvo-worker:up-1' },
      last_switch: { from: 'blue', to: 'green', at: '1970-01-01T00:01:00.000Z', deployment_id: 'dep-1' },
      updated_at: '1970-01-01T00:01:01.000Z',
    });
    record = store.commit(transition(record, { type: 'switched' }, 120_000));
    record = store.commit(transition(record, { type: 'observe_window_elapsed' }, 180_000));
    expect(record.state).toBe('promoted');
    record = store.commit(transition(record, { type: 'retention_elapsed' }, record.retentionEndsAt!));
    const view = workerManagerView(record, store.transitions(record.id), 2e9);
    expect(view.lanes.map((l) => l.status)).toEqual(['removed', 'active']);
    mkdirSync(join(dir, 'analytics'), { recursive: true });
    writeFileSync(workerManagerPath(dir), '{}');
    expect(codeOf(() => readWorkerManagerFile(dir))).toBe('WVO_WORKER_MANAGER_INVALID');
  });
});

describe('deployment leases (who drives a deployment)', () => {
  const me = { owner: 'h1:100:aa', pid: 100, host: 'h1' };
  const other = { owner: 'h1:200:bb', pid: 200, host: 'h1' };
  const remote = { owner: 'h2:300:cc', pid: 300, host: 'h2' };
  const alive = (pids: number[]) => (pid: number) => pids.includes(pid);

  it('judgeLease: free, mine, expired or a dead pid on this host → take; a live driver → refuse', () => {
    const held = (holder: typeof me, expiresAt: number) => ({ ...holder, deploymentId: 'd', acquiredAt: 0, renewedAt: expiresAt - 15_000, expiresAt });
    expect(judgeLease(undefined, me, 1_000, alive([])).take).toBe(true);
    expect(judgeLease(held(me, 20_000), me, 1_000, alive([])).take).toBe(true);
    expect(judgeLease(held(other, 20_000), me, 1_000, alive([200]))).toMatchObject({ take: false, reason: expect.stringContaining('driven by pid 200 on h1') });
    expect(judgeLease(held(other, 20_000), me, 1_000, alive([]))).toMatchObject({ take: true, reason: 'pid 200 on h1 is gone' });
    expect(judgeLease(held(other, 20_000), me, 20_000, alive([200]))).toMatchObject({ take: true, reason: expect.stringContaining('expired') });
    // Another host's pid cannot be checked from here: only expiry frees it.
    expect(judgeLease(held(remote, 20_000), me, 1_000, alive([])).take).toBe(false);
    expect(judgeLease(held(remote, 20_000), me, 25_000, alive([])).take).toBe(true);
  });

  it('acquire / renew / release; a live driver refuses a second one with WVO_DEPLOYMENT_OWNED, force takes it over', () => {
    const store = open();
    created(store);
    const at = (now: number, isAlive = alive([100, 200])) => ({ now, ttlMs: 15_000, isAlive });
    expect(store.acquireLease('dep-1', me, at(1_000)).lease).toMatchObject({ owner: me.owner, expiresAt: 16_000 });
    expect(store.renewLease('dep-1', me.owner, { now: 5_000, ttlMs: 15_000 })).toBe(true);
    expect(store.lease('dep-1')).toMatchObject({ renewedAt: 5_000, expiresAt: 20_000 });

    let refused: unknown;
    try {
      store.acquireLease('dep-1', other, at(6_000));
    } catch (error) {
      refused = error;
    }
    expect(isWvoError(refused) && refused.code).toBe('WVO_DEPLOYMENT_OWNED');
    expect(isWvoError(refused) && refused.details).toMatchObject({ pid: 100, host: 'h1' });
    expect(store.lease('dep-1')?.owner).toBe(me.owner); // nothing changed

    const taken = store.acquireLease('dep-1', other, { ...at(7_000), force: true });
    expect(taken.previous?.owner).toBe(me.owner);
    expect(store.renewLease('dep-1', me.owner, { now: 8_000, ttlMs: 15_000 })).toBe(false); // lost
    store.releaseLease('dep-1', me.owner); // not mine any more: no effect
    expect(store.lease('dep-1')?.owner).toBe(other.owner);
    store.releaseLease('dep-1', other.owner);
    expect(store.lease('dep-1')).toBeUndefined();
  });

  it('a driver that died on this host is taken over at once, before its lease expires', () => {
    const store = open();
    created(store);
    store.acquireLease('dep-1', other, { now: 1_000, ttlMs: 15_000, isAlive: alive([]) });
    const taken = store.acquireLease('dep-1', me, { now: 2_000, ttlMs: 15_000, isAlive: alive([100]) });
    expect(taken).toMatchObject({ reason: 'pid 200 on h1 is gone', previous: { owner: other.owner } });
  });
});
