import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { expect, it } from 'vitest';
import { startController } from '../../controller/src/api/index.js';
import { parseConfig } from '../../controller/src/config/index.js';
import { wireDeploy } from '../../controller/src/operations/index.js';
import { localImageStore } from '../../controller/src/runtime/index.js';
import { writeUpgradeShadowSummary } from '../../controller/src/shadow/index.js';
import { describeChromium, launchChromium } from '../helpers/chromium.js';
import { WORKER_TOKEN } from '../helpers/deploy-rig.js';
import { deployPerTest } from '../helpers/deploy-per-test.js';
import { expectNoFailedRequests } from '../helpers/no-failed-requests.js';

const TOKEN = 'status-page-token-0123456789';
const rigs = deployPerTest();

describeChromium('the live status page of `wvo serve`, in headless Chromium', () => {
  it('shows a real weighted deployment without the token, and follows it to the next state over SSE', async () => {
    const r = await rigs.rig({ drainTimeoutMs: 500 });
    // The last upgrade's shadow result, as the harness leaves it: upgrade_shadow.json → shadow.json, report.html beside it.
    const artifacts = join(r.root, 'experiments', 'mcp', 'upgrade', 'up-shadowed');
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'shadow.json'), '{}');
    writeFileSync(join(artifacts, 'report.html'), '<!doctype html><title>shadow report</title><h1 id="summary">2 differences</h1>');
    await writeUpgradeShadowSummary({ stateRoot: r.stateRoot, count: 2, shadowJsonPath: join(artifacts, 'shadow.json'), relativeTo: r.root, recordedAt: new Date() });

    const config = parseConfig({ runtime: 'local', stateRoot: './state' });
    const controller = await startController(
      { listen: '127.0.0.1:0', token: TOKEN, deploymentPollMs: 100 },
      {
        projectRoot: r.root,
        stateRoot: r.stateRoot,
        runtime: r.runtime,
        images: localImageStore(r.root),
        proxy: r.admin,
        promotion: (store) =>
          wireDeploy({ config, projectRoot: r.root, stateRoot: r.stateRoot, runtime: r.runtime, proxy: r.admin, store, env: { WVO_ADMIN_TOKEN: WORKER_TOKEN } })
            .operations.promotionFunctions(),
      },
    );
    rigs.defer(() => controller.close());
    const browser = await launchChromium();
    rigs.defer(() => browser.close());
    // Sessions come and go (renewEvery): a weighted step splits new sessions only.
    const traffic = await rigs.traffic(r.proxy.url, { sessions: 12, writers: 3, intervalMs: 20, maxMs: 90_000, renewEvery: 10 });

    const page = await browser.context.newPage();
    await page.goto(`${controller.url}/ui`); // no Authorization header: the page is read-only
    await page.locator('#live.on').waitFor({ timeout: 10_000 });
    expect(await page.locator('#deployment').textContent()).toContain('No deployment yet.');
    expect(await page.locator('#lanes tr[data-lane="blue"]').textContent()).toMatch(/^blue \(active\)\s*local\s*live/);
    expect(await page.locator('#shadow-count').textContent()).toBe('2');
    // Before any switch (no worker_manager.json yet) the proxy's routes say which lane serves.
    expect(await page.locator('#active-lane').textContent()).toBe('blue');
    expect(await page.locator('#lanes tr.active').getAttribute('data-lane')).toBe('blue');

    const upgrade = r.stage();
    const body = { steps: '50', observeMs: '6s', intervalMs: '1s', maxFailedChecks: 100, keepWarmMs: 0 };
    const accepted = await request(`${controller.url}/deployments/${upgrade.id}/promote`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(accepted.statusCode).toBe(202);
    const id = ((await accepted.body.json()) as { deployment: { id: string } }).deployment.id;

    // The running deployment appears without a reload: its weighted step, the split, both lanes with hosts.
    await page.locator(`#deployment[data-id="${id}"][data-state="weighted"]`).waitFor({ timeout: 30_000 });
    expect(await page.locator('#deployment').getAttribute('data-weight')).toBe('50');
    expect(await page.locator('#canary-steps li.current').textContent()).toBe('50%');
    expect(await page.locator('#lanes tr[data-lane="green"]').textContent()).toMatch(/green\s*local/);
    // Intervals analysed live: the score chart gets dots, the latency charts a line per lane.
    await page.locator('#score-chart circle').first().waitFor({ timeout: 20_000 });
    await page.locator('#latency-charts polyline[data-series="green (candidate)"]').first().waitFor({ timeout: 20_000 });
    expect(await page.locator('#latency-charts polyline[data-series="blue (baseline)"]').count()).toBeGreaterThan(0);

    // The next state arrives over SSE: the event list names the transition, the panel follows.
    await page.locator('#events li[data-type="deployment"]', { hasText: 'weighted → switched' }).waitFor({ timeout: 30_000 });
    await page.locator(`#deployment[data-id="${id}"][data-state="observing"], #deployment[data-id="${id}"][data-state="promoted"]`).waitFor({ timeout: 15_000 });
    expect(Number(await page.locator('#deployment').getAttribute('data-weight'))).toBe(100);
    await page.locator(`#deployment[data-id="${id}"][data-state="promoted"]`).waitFor({ timeout: 30_000 });
    await page.locator('#active-lane', { hasText: 'green' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#lanes tr.active').getAttribute('data-lane')).toBe('green');

    // The shadow link opens the last report; the page changed nothing and the token still guards writes.
    await page.locator('#report-link').click();
    await page.locator('#summary', { hasText: '2 differences' }).waitFor({ timeout: 10_000 });
    const refused = await request(`${controller.url}/deployments/${id}/rollback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(refused.statusCode).toBe(401);
    await refused.body.dump();
    expect((await r.admin.lanes()).active).toBe('green');

    await traffic.stop();
    expectNoFailedRequests(traffic);
  });
});
