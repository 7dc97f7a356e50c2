import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { promotionPlanPath, readPromotionPlanFile } from '../../controller/src/promotion/index.js';
import { makeFaultTree } from '../helpers/fault-tree.js';
import { deployPerTest } from '../helpers/deploy-per-test.js';
import { sleep } from '../helpers/sleep.js';

const rigs = deployPerTest();

const PROBES = [{ name: 'queue-total', tool: 'orchestrator_status', expect: [{ path: '$.queue.total', type: 'integer' }] }];

describe('deploy: weighted canary steps on real lanes, analysed against the baseline, with probes', () => {
  it('--steps 50: half the new sessions on green, each interval compared live, then the switch; promoted', async () => {
    const rig = await rigs.rig({ drainTimeoutMs: 500 });
    const upgrade = rig.stage();
    const traffic = await rigs.traffic(rig.proxy.url, { sessions: 12, writers: 3, intervalMs: 20, maxMs: 60_000, renewEvery: 10 });
    await sleep(300);
    const splits: unknown[] = [];
    const watching = (async () => {
      while (!['promoted', 'rolled_back'].includes(rig.store.list(1)[0]?.state ?? '')) {
        splits.push((await rig.admin.lanes().catch(() => ({ canary: null }))).canary);
        await sleep(100);
      }
    })();
    // The mechanism is what is tested here, not the verdicts on a loaded machine: checks may fail without a rollback.
    const record = await rig.deploy.operations.promote({ upgradeId: upgrade.id, steps: '50', observeMs: '2s', intervalMs: '500ms', maxFailedChecks: 100, keepWarmMs: 0, probes: PROBES });
    await watching;
    await traffic.stop();

    expect(record.state).toBe('promoted');
    expect(rig.store.transitions(record.id).map((t) => `${t.from}>${t.to}`)).toEqual([
      'shadowed>canary_live',
      'canary_live>weighted',
      'weighted>switched',
      'switched>observing',
      'observing>promoted',
    ]);
    expect(splits).toContainEqual(expect.objectContaining({ candidate: 'green', weight: 50 }));
    expect((await rig.admin.lanes()).canary).toBeNull();
    expect((await rig.admin.lanes()).active).toBe('green');
    expect(record.analyses.filter((a) => a.state === 'weighted').every((a) => a.comparison === 'live' && a.weight === 50)).toBe(true);
    expect(record.analyses.some((a) => a.state === 'observing' && a.comparison === 'pre_switch')).toBe(true);
    // The probe ran on both lanes every interval and passed on the real worker.
    expect(record.analyses.flatMap((a) => a.checks.filter((c) => c.metric === 'probes')).every((c) => c.verdict === 'pass')).toBe(true);
    expect(record.analyses.some((a) => a.checks.some((c) => c.metric === 'probes' && c.subject === 'queue-total'))).toBe(true);
    const file = readPromotionPlanFile(promotionPlanPath(join(rig.root, 'experiments'), upgrade.id));
    expect(file.analyses.length).toBe(record.analyses.length);
    expect(traffic.failed, traffic.failures.join('\n')).toBe(0);
  });

  it('a candidate failing a semantic probe is rolled back from its weighted step; the split ends, blue serves, 0 failed calls', async () => {
    const rig = await rigs.rig({ drainTimeoutMs: 500 });
    const image = makeFaultTree(join(rig.root, 'no-total'), { kind: 'drop_field', tool: 'orchestrator_status', section: 'queue', field: 'total' });
    const upgrade = rig.stage({ candidate: { lane: 'green', image } });
    const traffic = await rigs.traffic(rig.proxy.url, { sessions: 12, writers: 3, intervalMs: 20, maxMs: 60_000, renewEvery: 10 });
    await sleep(300);
    const record = await rig.deploy.operations.promote({ upgradeId: upgrade.id, steps: '50', observeMs: '30s', intervalMs: '500ms', maxFailedChecks: 2, probes: PROBES });
    await traffic.stop();

    expect(record.state).toBe('rolled_back');
    expect(record.rollback?.from).toBe('weighted');
    expect(record.rollback?.reason).toMatch(/probe queue-total failed on the candidate: \$\.queue\.total selects nothing/);
    const lanes = await rig.admin.lanes();
    expect(lanes).toMatchObject({ active: 'blue', canary: null });
    expect((await rig.runtime.getLane('green'))?.status).toBe('stopped');
    // Readers never call with expectations: the change is invisible to them, and nothing failed.
    expect(traffic.failed, traffic.failures.join('\n')).toBe(0);
    expect(await traffic.probeAll()).toBe(12);
  });
});
