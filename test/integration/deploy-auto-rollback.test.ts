import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { makeFlakyTree } from '../helpers/deploy-rig.js';
import { sleep } from '../helpers/sleep.js';
import { deployPerTest } from '../helpers/deploy-per-test.js';

const rigs = deployPerTest();

describe('deploy: a candidate that fails half its calls rolls back by itself', () => {
  it('rolls back on failed gates, reverts flags in reverse order, and loses no committed write', async () => {
    const rig = await rigs.rig({ drainTimeoutMs: 500 });
    // green = the real worker behind a front that fails every 2nd tool call once SANDBOX_MODE is on
    const upgrade = rig.stage({ candidate: { lane: 'green', image: makeFlakyTree(join(rig.root, 'flaky-tree')) } });
    const traffic = await rigs.traffic(rig.proxy.url, { sessions: 20, writers: 4, intervalMs: 20, maxMs: 90_000 });
    await sleep(300);

    const record = await rig.deploy.operations.promote({
      upgradeId: upgrade.id,
      // Long enough for two intervals per phase on a loaded machine (one interval — scrape and both
      // lanes' status — was measured taking up to 4 s at load average 20): the faults start only
      // in the last phase, and two failed checks there must be possible.
      observeMs: '8s',
      intervalMs: '300ms',
      maxFailedChecks: 2,
      flags: 'PROMPT_MODE,SANDBOX_MODE',
      // Default gates and analysis: writer load (claim, verify, report) on two busy cores must not
      // trip them; only the candidate's injected faults do.
    });
    await sleep(700);
    await traffic.stop();

    expect(record.state).toBe('rolled_back');
    expect(record.rollback?.from).toBe('observing');
    expect(record.rollback?.reason).toMatch(/gates failed.*error_rate/);
    expect((await rig.admin.lanes()).active).toBe('blue');
    expect((await rig.runtime.getLane('green'))?.status).toBe('stopped');

    // The rollback's effects, as persisted before they ran: flags in reverse order, then traffic back.
    const rollingBack = rig.store.transitions(record.id).find((t) => t.to === 'rolling_back')!;
    expect(rollingBack.effects.map((e) => ('flag' in e ? `${e.kind} ${e.flag}=${e.value}` : e.kind))).toEqual([
      'revert_flag SANDBOX_MODE=off',
      'revert_flag PROMPT_MODE=off',
      'switch_proxy',
      'stop_lane',
      'write_worker_manager',
      'write_plan',
    ]);

    const db = new Database(join(rig.stateRoot, 'orchestrator.db'), { readonly: true });
    try {
      // ...and as the live database saw them: flipped one at a time, reverted in reverse order.
      const flagEvents = (db.prepare("SELECT payload FROM events WHERE kind = 'flag_changed' ORDER BY id").all() as Array<{ payload: string }>).map(
        (row) => {
          const p = JSON.parse(row.payload) as { flag: string; to: string };
          return `${p.flag}=${p.to}`;
        },
      );
      expect(flagEvents).toEqual(['PROMPT_MODE=compact', 'SANDBOX_MODE=strict', 'SANDBOX_MODE=off', 'PROMPT_MODE=standard']);
      const settings = Object.fromEntries(
        (db.prepare("SELECT key, value FROM settings WHERE key IN ('PROMPT_MODE', 'SANDBOX_MODE')").all() as Array<{ key: string; value: string }>).map(
          (r) => [r.key, r.value],
        ),
      );
      expect(settings).toEqual({ PROMPT_MODE: 'standard', SANDBOX_MODE: 'off' });

      // 0 committed writes lost: every dispatch a client saw acknowledged is in the live database.
      expect(traffic.dispatched.length).toBeGreaterThan(10);
      const stored = new Set(
        (db.prepare("SELECT task_id FROM dispatches WHERE agent LIKE 'writer-%'").all() as Array<{ task_id: string }>).map((r) => r.task_id),
      );
      expect(traffic.dispatched.filter((id) => !stored.has(id))).toEqual([]);
      expect(stored.size).toBe(new Set(traffic.dispatched).size);
    } finally {
      db.close();
    }

    // The candidate did fail calls (that is the point), and every session works again on blue.
    expect(traffic.failed).toBeGreaterThan(0);
    expect(traffic.failures.every((f) => /500|injected/.test(f))).toBe(true);
    expect(await traffic.probeAll()).toBe(20);
  });
});
