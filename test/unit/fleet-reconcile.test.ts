import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startController } from '../../controller/src/api/index.js';
import { parseConfig } from '../../controller/src/config/index.js';
import { FleetControl, FleetStore, type FleetRecord } from '../../controller/src/fleet/index.js';
import { DeploymentStore } from '../../controller/src/promotion/index.js';
import { localImageStore } from '../../controller/src/runtime/index.js';
import { LocalRuntime } from '../../controller/src/runtime/local/local-runtime.js';
import { SmallOrchestrator } from '../helpers/fleet-fakes.js';

/**
 * `wvo serve` resumes a fleet promotion whose controller died, as its reconcile loop resumes a
 * deployment: the real controller (startController) over a real controller.db, its fleet's
 * members small in-memory orchestrators. A live driver's fleet is left alone.
 */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const until = async (what: string, check: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

function recordUpgrade(stateRoot: string): void {
  const upgrades = DeploymentStore.open(stateRoot);
  upgrades.recordUpgrade({ id: 'up-1', outcome: 'passed', steps: ['test', 'schema-compat'].map((name) => ({ name, status: 'ok' })), baseline: { lane: 'blue', image: 'img:1' }, candidate: { lane: 'green', image: 'img:2' } }, 1);
  upgrades.close();
}

describe('wvo serve: fleet reconcile', () => {
  it('a fleet left between waves by a dead controller is resumed by the serve loop; while its driver lives it is not touched', async () => {
    const root = mkdtempSync(join(tmpdir(), 'wvo-fleet-reconcile-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const config = parseConfig({ runtime: 'docker', fleet: { deployments: ['a', 'b'].map((name) => ({ name, state: `./${name}`, proxy: { admin: 'http://127.0.0.1:1' } })), waves: { size: 1, pause: '10m' } } });

    // A first controller promotes wave 1 and is then (as far as the record knows) gone, the pause pending.
    const first = join(root, 'first');
    recordUpgrade(first);
    const firstLog: string[] = [];
    const dying = new FleetControl({ config, projectRoot: root, stateRoot: first, open: async (t) => new SmallOrchestrator(t.name, 'promoted', firstLog) });
    cleanups.push(() => dying.close());
    const begun = await dying.runner.begin({ upgradeId: 'up-1' });
    await until('wave 1 promoted', () => dying.store.get(begun.fleet.id).members[0]!.state === 'promoted');
    const left: FleetRecord = { ...dying.store.get(begun.fleet.id), nextWaveAt: Date.now() };
    expect(left.members.map((m) => m.state)).toEqual(['promoted', 'pending']);

    // The serving controller's state root holds that record, leased to a driver that is alive (this pid).
    const stateRoot = join(root, 'state');
    recordUpgrade(stateRoot);
    const store = FleetStore.open(stateRoot);
    cleanups.push(() => store.close());
    store.create(left, { owner: 'other-controller', pid: process.pid, host: hostname() }, 60_000);

    const log: string[] = [];
    const control = new FleetControl({ config, projectRoot: root, stateRoot, open: async (t) => new SmallOrchestrator(t.name, 'promoted', log) });
    cleanups.push(() => control.close());
    const runtime = new LocalRuntime({ runDir: join(root, 'run') });
    cleanups.push(() => runtime.close());
    const controller = await startController({ listen: '127.0.0.1:0', token: 'fleet-reconcile-token-0123456789', reconcileMs: 50 }, { projectRoot: root, stateRoot, runtime, images: localImageStore(root) }, { fleet: () => control });
    cleanups.push(() => controller.close());

    await new Promise((r) => setTimeout(r, 400));
    expect(store.get(left.id).members.map((m) => m.state)).toEqual(['promoted', 'pending']);
    expect(log).toEqual([]);

    // Its driver dies (the pid on this host is gone): the next tick takes the lease and runs wave 2.
    (store as unknown as { db: { prepare(s: string): { run(...a: unknown[]): unknown } } }).db.prepare('UPDATE fleet_leases SET pid = ?').run(2_147_483_646);
    await until('the fleet resumed to its end', () => store.get(left.id).state !== 'running');
    const after = store.get(left.id);
    expect(after.state).toBe('promoted');
    expect(after.members.map((m) => m.state)).toEqual(['promoted', 'promoted']);
    // Only the member not yet begun was begun; the promoted one was left as it was.
    expect(log).toEqual(['begin b', 'promoted b']);
  });
});
