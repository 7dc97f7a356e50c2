import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WvoError } from '../../common/src/errors.js';
import { silentLogger } from '../../common/src/logger.js';
import { ReconcileLoop } from '../../controller/src/operations/index.js';
import { DeploymentStore, newDeploymentRecord } from '../../controller/src/promotion/index.js';
import { plan, upgradeSummary } from './promotion-fixtures.js';

/** The server's reconcile loop against a real controller.db: which deployments it resumes, and when it housekeeps. */
let dir: string;
let store: DeploymentStore;
let now = 1_000_000;
const clock = { now: () => now, sleep: async () => undefined };
const host = hostname();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wvo-auto-resume-'));
  store = DeploymentStore.open(dir);
  store.recordUpgrade(upgradeSummary(), 1);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function running(driver?: { pid: number; host: string }) {
  const lease = driver ? { owner: `${driver.host}:${driver.pid}:x`, ...driver, acquiredAt: now, renewedAt: now, expiresAt: now + 15_000 } : undefined;
  // `shadowed` is already a running state.
  return store.createDeployment(newDeploymentRecord('dep-1', plan(), now), lease);
}

function autoResume(resume: (id: string) => Promise<undefined>, alive: number[], housekeeping?: () => Promise<void>) {
  return new ReconcileLoop({ store, resume, ...(housekeeping ? { housekeeping } : {}), clock, logger: silentLogger(), intervalMs: 60_000, isAlive: (pid) => alive.includes(pid) });
}

/** One tick (start runs the first at once), then wait for a resume it began. */
async function tickOnce(resumer: ReconcileLoop): Promise<void> {
  resumer.start();
  resumer.stop();
  await resumer.idle();
}

describe('ReconcileLoop', () => {
  it('leaves a deployment whose driver is alive on this host; resumes one whose driver is gone', async () => {
    running({ pid: 4242, host });
    const calls: string[] = [];
    await tickOnce(autoResume(async (id) => void calls.push(id), [4242]));
    expect(calls).toEqual([]);
    await tickOnce(autoResume(async (id) => void calls.push(id), []));
    expect(calls).toEqual(['dep-1']);
  });

  it('waits for the lease of a driver on another host to expire', async () => {
    running({ pid: 4242, host: 'elsewhere' });
    const calls: string[] = [];
    await tickOnce(autoResume(async (id) => void calls.push(id), []));
    expect(calls).toEqual([]);
    now += 15_000;
    await tickOnce(autoResume(async (id) => void calls.push(id), []));
    expect(calls).toEqual(['dep-1']);
  });

  it('after a failed resume it waits 30 s before the next try; nothing to do without a running deployment', async () => {
    const calls: string[] = [];
    await tickOnce(autoResume(async (id) => void calls.push(id), []));
    expect(calls).toEqual([]);

    running();
    const failing = autoResume(async (id) => {
      calls.push(id);
      throw new WvoError('WVO_ROLLBACK_STUCK', 'stuck');
    }, []);
    const tick = () => (failing as unknown as { tick(): void }).tick();
    tick();
    await failing.idle();
    tick();
    await failing.idle();
    expect(calls).toEqual(['dep-1']);
    now += 30_000;
    tick();
    await failing.idle();
    expect(calls).toEqual(['dep-1', 'dep-1']);
  });

  it('housekeeps when there is nothing to resume, and not while it resumes', async () => {
    const work: string[] = [];
    const housekeeping = async () => void work.push('housekeeping');
    await tickOnce(autoResume(async (id) => void work.push(`resume ${id}`), [], housekeeping));
    expect(work).toEqual(['housekeeping']);
    running();
    await tickOnce(autoResume(async (id) => void work.push(`resume ${id}`), [], housekeeping));
    expect(work).toEqual(['housekeeping', 'resume dep-1']);
  });
});
