import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../common/src/clock.js';
import { parseConfig } from '../../controller/src/config/index.js';
import { FleetRunner, FleetStore, resolveFleetTargets, type MemberPlane } from '../../controller/src/fleet/index.js';
import { DeploymentStore, type DeploymentRecord } from '../../controller/src/promotion/index.js';
import { SmallOrchestrator, type Outcome } from '../helpers/fleet-fakes.js';

/**
 * The runner over small real member planes (each an in-memory orchestrator whose promotion
 * settles as the test says) and a real controller.db: waves, failure policy, resume.
 */
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function fleet(outcomes: Record<string, Outcome>, options: { waves?: Record<string, unknown>; planes?: Map<string, SmallOrchestrator>; resumeWaves?: Record<string, unknown> } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'wvo-fleet-unit-'));
  dirs.push(root);
  const config = parseConfig({
    runtime: 'docker',
    fleet: { deployments: Object.keys(outcomes).map((name) => ({ name, state: `./${name}`, proxy: { admin: 'http://127.0.0.1:1' } })), waves: options.waves ?? { size: 1 } },
  });
  const store = FleetStore.open(join(root, 'state'));
  const upgrades = DeploymentStore.open(join(root, 'state'));
  upgrades.recordUpgrade(
    { id: 'up-1', outcome: 'passed', steps: ['test', 'schema-compat'].map((name) => ({ name, status: 'ok' })), baseline: { lane: 'blue', image: 'img:1' }, candidate: { lane: 'green', image: 'img:2' } },
    1,
  );
  const log: string[] = [];
  const planes = options.planes ?? new Map(Object.entries(outcomes).map(([name, outcome]) => [name, new SmallOrchestrator(name, outcome, log)]));
  const runner = (cfg = config) =>
    new FleetRunner({ config: cfg, targets: resolveFleetTargets(cfg, root), store, upgrades, open: async (t) => planes.get(t.name)!, clock: systemClock, leaseTtlMs: 300 });
  // The same fleet with other wave settings in config (a resumed controller reading an edited wvo.config.json).
  const edited = (waves: Record<string, unknown>) => parseConfig({ ...config, fleet: { ...config.fleet, waves } });
  return { store, upgrades, planes, log, runner, edited, close: () => (store.close(), upgrades.close()) };
}

describe('fleet runner', () => {
  it('promotes every deployment in waves with the pause between them, each through its own promotion', async () => {
    const f = fleet({ a: 'promoted', b: 'promoted', c: 'promoted' }, { waves: { size: 2, pause: '150ms' } });
    const result = await f.runner().promote({ promotion: { observeMs: '1s' } });
    expect(result.state).toBe('promoted');
    expect(result.members.map((m) => [m.name, m.wave, m.state, m.deploymentId])).toEqual([['a', 0, 'promoted', 'a-d1'], ['b', 0, 'promoted', 'b-d1'], ['c', 1, 'promoted', 'c-d1']]);
    expect(f.log.slice(0, 2).sort()).toEqual(['begin a', 'begin b']);
    expect(f.log.indexOf('begin c')).toBeGreaterThan(f.log.indexOf('promoted b'));
    // The pause: wave 2 began at least 150 ms after wave 1 ended.
    expect(result.waves[1]!.startedAt! - result.waves[0]!.finishedAt!).toBeGreaterThanOrEqual(150);
    // Each deployment got the representative upgrade with its own serving lane as baseline, and the promotion options.
    expect(f.planes.get('c')!.upgrades[0]).toMatchObject({ id: 'up-1.c', baseline: { lane: 'blue', image: 'img:1' }, candidate: { lane: 'green', image: 'img:2' } });
    expect(f.store.get(result.id)).toEqual(result);
    f.close();
  });

  it('a failure in the second wave: that deployment rolled back, later ones skipped, the first kept (policy keep)', async () => {
    const f = fleet({ a: 'promoted', b: 'rolled_back', c: 'promoted' });
    const result = await f.runner().promote({});
    expect(result.state).toBe('failed');
    expect(result.members.map((m) => [m.name, m.state])).toEqual([['a', 'promoted'], ['b', 'rolled_back'], ['c', 'skipped']]);
    expect(result.members[1]!.reason).toBe('error rate 40 % > 5 %');
    expect(result.reason).toContain('b: error rate 40 %');
    expect(f.log).not.toContain('begin c');
    f.close();
  });

  it('policy rollback: the deployments already promoted are rolled back too, and the record says so', async () => {
    const f = fleet({ a: 'promoted', b: 'rolled_back' }, { waves: { size: 1 } });
    const result = await f.runner().promote({ onFailure: 'rollback' });
    expect(result.state).toBe('rolled_back');
    expect(result.members.map((m) => [m.name, m.state])).toEqual([['a', 'reverted'], ['b', 'rolled_back']]);
    expect(f.log).toContain('rollback a: fleet policy rollback: b failed');
    expect(f.planes.get('a')!.image).toBe('img:1');
    f.close();
  });

  it('a proxy that does not answer, or serves no lane: refused before any record or promotion', async () => {
    const f = fleet({ a: 'promoted', b: 'promoted' });
    f.planes.get('b')!.serving = async () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    await expect(f.runner().promote({})).rejects.toThrow('ECONNREFUSED');
    f.planes.get('b')!.serving = async () => ({ lane: null, image: null });
    await expect(f.runner().promote({})).rejects.toMatchObject({ code: 'WVO_FLEET_NOT_SERVING', subject: 'b' });
    await expect(f.runner().promote({ waveSize: 0 })).rejects.toMatchObject({ code: 'WVO_FLEET_WAVE_INVALID', subject: 'waveSize' });
    expect(f.store.list()).toEqual([]);
    expect(f.log).toEqual([]);
    f.close();
  });

  it('resume after a controller died between waves: the lease is taken over and the next wave runs; a live driver refuses resume', async () => {
    const f = fleet({ a: 'promoted', b: 'promoted' }, { waves: { size: 1, pause: '10m' } });
    const begun = await f.runner().begin({});
    await expect(f.runner().resume(begun.fleet.id)).rejects.toMatchObject({ code: 'WVO_FLEET_OWNED' });
    // Wave 1 done, the pause running: "kill" this driver by leaving it waiting and letting its lease lapse…
    for (let i = 0; i < 100 && f.store.get(begun.fleet.id).members[0]!.state !== 'promoted'; i++) await new Promise((r) => setTimeout(r, 20));
    const mid = f.store.get(begun.fleet.id);
    expect(mid.members.map((m) => m.state)).toEqual(['promoted', 'pending']);
    // …then shorten the persisted pause, as if its time had passed while no controller ran.
    f.store.save({ ...mid, nextWaveAt: Date.now() });
    const db = (f.store as unknown as { db: { prepare(s: string): { run(...a: unknown[]): unknown } } }).db;
    db.prepare('UPDATE fleet_leases SET expires_at = 0').run();
    const resumed = await f.runner().resume();
    expect(resumed?.state).toBe('promoted');
    expect(resumed?.members.map((m) => m.state)).toEqual(['promoted', 'promoted']);
    expect(f.log.filter((l) => l.startsWith('begin'))).toEqual(['begin a', 'begin b']);
    // The first driver lost its lease: it stepped aside and never began b itself.
    expect((await begun.done).members.map((m) => m.state)).not.toContain('pending');
    expect(f.log.filter((l) => l === 'begin b')).toHaveLength(1);
    f.close();
  });

  it('resume of a member its dead driver had begun: that deployment is resumed through its own promotion, not begun again', async () => {
    const f = fleet({ a: 'promoted' });
    const plane = f.planes.get('a')!;
    const begun = await f.runner().begin({});
    await begun.done;
    // Rewind the record to "a promoting" with its deployment unsettled, as a kill mid-wave leaves it.
    const rec = f.store.get(begun.fleet.id);
    plane.deployments.set('a-d1', { ...plane.deployments.get('a-d1')!, state: 'observing' } as DeploymentRecord);
    const db = (f.store as unknown as { db: { prepare(s: string): { run(...a: unknown[]): unknown } } }).db;
    f.store.save({ ...rec, state: 'running', finishedAt: null, members: rec.members.map((m) => ({ ...m, state: 'promoting', deploymentId: null })) });
    db.prepare(`UPDATE fleets SET state = 'running'`).run();
    const resumed = await f.runner().resume(begun.fleet.id);
    expect(resumed?.members[0]).toMatchObject({ state: 'promoted', deploymentId: 'a-d1' });
    expect(f.log.filter((l) => l.startsWith('begin') || l.startsWith('resume'))).toEqual(['begin a', 'resume a']);
    f.close();
  });

  it('progressive waves: sizes and observe windows as planned, each member promoted with its wave\'s window, the plan in the record', async () => {
    const f = fleet({ a: 'promoted', b: 'promoted', c: 'promoted', d: 'promoted' });
    const result = await f.runner().promote({ waves: '1,50%,rest', waveObserve: '3s,1s', promotion: { observeMs: '10m' } });
    expect(result.state).toBe('promoted');
    expect(result.members.map((m) => [m.name, m.wave])).toEqual([['a', 0], ['b', 1], ['c', 1], ['d', 2]]);
    expect(result.waves.map((w) => [w.size, w.observeMs])).toEqual([[1, 3000], [2, 1000], [1, 1000]]);
    expect(result).toMatchObject({ waveSpec: '1,50%,rest', waveSize: 2, bootLimit: 2 });
    expect(['a', 'b', 'd'].map((n) => f.planes.get(n)!.begun[0]!.observeMs)).toEqual([3000, 1000, 1000]);
    // Wave 1 alone: b and c began only after a was promoted.
    expect(f.log.indexOf('begin b')).toBeGreaterThan(f.log.indexOf('promoted a'));
    // Sizes past the fleet: refused before any record or promotion.
    await expect(f.runner().promote({ waves: '1,2,2' })).rejects.toMatchObject({ code: 'WVO_FLEET_WAVE_INVALID', subject: 'waves' });
    // A window shorter than the promotion's interval is refused for that wave, before anything starts.
    await expect(f.runner().promote({ waves: '1,rest', waveObserve: '10s,1s', promotion: { intervalMs: '5s' } })).rejects.toMatchObject({ code: 'WVO_INVALID_PROMOTION_OPTION', subject: 'intervalMs' });
    expect(f.store.list()).toHaveLength(1);
    f.close();
  });

  it('resume runs the persisted plan (sizes and windows), not one recomputed from an edited config', async () => {
    const f = fleet({ a: 'promoted', b: 'promoted', c: 'promoted' }, { waves: { sizes: [1, 'rest'], observe: ['4s', '2s'], pause: '10m' } });
    const begun = await f.runner().begin({});
    for (let i = 0; i < 100 && f.store.get(begun.fleet.id).members[0]!.state !== 'promoted'; i++) await new Promise((r) => setTimeout(r, 20));
    const mid = f.store.get(begun.fleet.id);
    expect(mid.members.map((m) => m.state)).toEqual(['promoted', 'pending', 'pending']);
    f.store.save({ ...mid, nextWaveAt: Date.now() });
    const db = (f.store as unknown as { db: { prepare(s: string): { run(...a: unknown[]): unknown } } }).db;
    db.prepare('UPDATE fleet_leases SET expires_at = 0').run();
    const resumed = await f.runner(f.edited({ size: 1, observe: ['9s'] })).resume();
    expect(resumed?.state).toBe('promoted');
    expect(resumed?.members.map((m) => [m.name, m.wave])).toEqual([['a', 0], ['b', 1], ['c', 1]]);
    expect(['a', 'b', 'c'].map((n) => f.planes.get(n)!.begun[0]!.observeMs)).toEqual([4000, 2000, 2000]);
    await begun.done;
    f.close();
  });
});
