import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTempWorkspace } from '../helpers/workspace.js';
import { runWvo as wvo } from '../helpers/deploy-rig.js';
import { deployPerTest } from '../helpers/deploy-per-test.js';
import { expectNoFailedRequests } from '../helpers/no-failed-requests.js';

const rigs = deployPerTest();

describe('deploy: wvo upgrade --promote chains harness → recordUpgrade → promote', () => {
  it('promotes a tested run; the next run (lanes swapped) is refused for skipped tests', async () => {
    const rig = await rigs.rig();
    const ws = await makeTempWorkspace('wvo-deploy-ws-');
    rigs.defer(() => ws.cleanup());
    const traffic = await rigs.traffic(rig.proxy.url, { sessions: 10, intervalMs: 50, maxMs: 280_000 });

    // `node --version` stands in for the staged tests: fast, and the test step is `ok`.
    const first = await wvo(rig, ['upgrade', '--workspace', ws.dir, '--promote', '--test-command', 'node --version', '--observe', '1s', '--interval', '500ms', '--retention', '2h', '--keep-warm', '1s']);
    expect(first.exitCode, first.stderr.slice(-2000)).toBe(0);
    const promoted = JSON.parse(first.stdout) as { ok: boolean; deployment: { state: string; upgradeId: string; plan: any } };
    expect(promoted.ok).toBe(true);
    expect(promoted.deployment.state).toBe('promoted');
    expect(promoted.deployment.plan.baseline.lane).toBe('blue');
    expect(promoted.deployment.plan.candidate.lane).toBe('green');
    // The promotion options of `wvo promote` pass through; the command waited out the keep-warm window.
    expect(promoted.deployment.plan).toMatchObject({ retentionMs: 7_200_000, keepWarmMs: 1_000 });
    expect((await rig.runtime.getLane('blue'))?.status).toBe('stopped');
    expect(rig.store.findUpgrade(promoted.deployment.upgradeId)?.steps.find((s) => s.name === 'test')?.status).toBe('ok');
    expect((await rig.admin.lanes()).active).toBe('green');
    // The promoted lane runs a tree the local image store keeps (tmp/wv-images), so the stage with
    // its snapshot copies of the live state is deleted like after any run.
    const stages = () => readdirSync(join(rig.root, 'tmp')).filter((name) => name.startsWith('wv-upgrade-'));
    expect(stages()).toEqual([]);
    const green = await rig.runtime.getLane('green');
    expect(green?.image.startsWith(join(rig.root, 'tmp', 'wv-images'))).toBe(true);
    expect(existsSync(join(green!.image, 'dist', 'worker', 'src', 'main.js'))).toBe(true);

    // Recorded even though promotion refuses it: green serves now, so the candidate lane is blue.
    const second = await wvo(rig, ['upgrade', '--workspace', ws.dir, '--promote', '--skip-tests', '--observe', '1s']);
    expect(second.exitCode).toBe(1);
    expect(JSON.parse(second.stdout).error.code).toBe('WVO_TESTS_SKIPPED');
    const recorded = rig.store.getUpgrade();
    expect(recorded).toMatchObject({ baseline: { lane: 'green' }, candidate: { lane: 'blue' } });
    expect(rig.store.list()).toHaveLength(1);
    expect((await rig.admin.lanes()).active).toBe('green');
    expect(stages()).toEqual([]);

    await traffic.stop();
    expectNoFailedRequests(traffic);
  }, 300_000);
});
