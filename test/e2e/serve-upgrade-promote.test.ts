import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { makeFakeWorkerTree } from '../helpers/runtime-fixtures.js';
import { makeTempWorkspace } from '../helpers/workspace.js';
import { http, openEvents } from '../helpers/api-rig.js';
import { CLI_MAIN, PROXY_TOKEN, WORKER_TOKEN, runWvo, type DeployRig } from '../helpers/deploy-rig.js';
import { sleep } from '../helpers/sleep.js';
import { deployPerTest } from '../helpers/deploy-per-test.js';
import { expectNoFailedRequests } from '../helpers/no-failed-requests.js';

/**
 * The whole job through the HTTP API only, against a real `wvo serve` process: POST /upgrades of a
 * workspace change (staged, tested, shadowed, pruned), POST promote, wait for it to settle, then
 * POST rollback, while SDK sessions keep calling through the proxy.
 */
const TOKEN = 'serve-e2e-token-0123456789';
const rigs = deployPerTest();

/** `wvo <args>` as its own process, killed after the test if the test failed before it did. */
function spawnWvo(r: DeployRig, args: string[]): ReturnType<typeof runWvo> {
  const cli = runWvo(r, args);
  rigs.defer(async () => {
    if (cli.exitCode === null) cli.kill('SIGKILL');
    await cli.catch(() => undefined);
  });
  return cli;
}

async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  if (server.exitCode === null) server.kill('SIGKILL');
}

function serve(r: DeployRig): Promise<string> {
  const child = spawn(process.execPath, [CLI_MAIN, 'serve', '--listen', '127.0.0.1:0', '--config', r.configFile], {
    cwd: r.root,
    env: { ...process.env, WVO_CONTROLLER_TOKEN: TOKEN, WVO_PROXY_TOKEN: PROXY_TOKEN, WVO_ADMIN_TOKEN: WORKER_TOKEN, WVO_LOG_PRETTY: '0', WVO_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  rigs.defer(() => stopServer(child));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const json = JSON.parse(line) as { event?: string; url?: string };
        if (json.event === 'listening' && json.url) resolve(json.url);
      } catch {
        // not the listening line
      }
    });
    child.once('exit', (code) => reject(new Error(`wvo serve exited ${code} before listening: ${stderr}`)));
  });
}

describe('wvo serve: upgrade → promote → rollback through the HTTP API alone', () => {
  it('runs a real upgrade (pruning after itself), promotes it, settles, rolls back; 0 failed requests', async () => {
    const r = await rigs.rig();
    // keepStaged 0: the end-of-run prune removes every staged tree nothing uses.
    const config = JSON.parse(readFileSync(r.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(r.configFile, JSON.stringify({ ...config, images: { keepStaged: 0 } }));
    const stale = makeFakeWorkerTree(join(r.root, 'tmp', 'wv-images', 'stale'));
    const ws = await makeTempWorkspace('wvo-serve-e2e-');
    rigs.defer(() => !process.env.DEPLOY_TEST_KEEP && ws.cleanup());
    // A behavioural change every answer shows (the load's writers may claim every ready task, so
    // not plan_next): autopilot_status gains a field.
    const autopilot = join(ws.dir, 'worker/src/tools/autopilot-status.ts');
    const source = readFileSync(autopilot, 'utf8');
    expect(source).toContain('      mode: readAutopilotMode(context.db),\n');
    writeFileSync(autopilot, source.replace('      mode: readAutopilotMode(context.db),\n', "      mode: readAutopilotMode(context.db),\n      mode_source: 'settings',\n"));

    const url = await serve(r);
    const events = await openEvents(url, TOKEN);
    try {
      const traffic = await rigs.traffic(r.proxy.url, { sessions: 10, writers: 1, intervalMs: 25, maxMs: 240_000 });

      const started = await http(url, 'POST', '/upgrades', {
        token: TOKEN,
        body: { workspace: ws.dir, allowDirty: true, testCommand: ['npx', 'vitest', 'run', 'test/unit/worker-logic.test.ts'] },
      });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      const upgradeId = started.body.id as string;
      await events.until((frames) => frames.some((f) => f.event === 'upgrade-finished' && f.data.id === upgradeId), 200_000);
      if (process.env.DEPLOY_TEST_KEEP) console.log('kept', r.root, ws.dir);
      const finished = events.frames.find((f) => f.event === 'upgrade-finished')!.data;
      // autopilot_status gained a field: the shadow diff reports it (exit 2, warnings).
      expect(finished, JSON.stringify(finished)).toMatchObject({ id: upgradeId, outcome: 'warnings', exit_code: 2 });
      const steps = await http(url, 'GET', `/upgrades/${upgradeId}`, { token: TOKEN });
      expect(steps.status, JSON.stringify(steps.body)).toBe(200);
      expect(Object.fromEntries((steps.body.upgrade.steps as Array<{ name: string; status: string }>).map((s) => [s.name, s.status]))).toMatchObject({
        test: 'ok',
        shadow: 'warning',
        'schema-compat': 'ok',
      });
      const pruneMessages = events.frames
        .filter((f) => f.event === 'upgrade-step' && f.data.id === upgradeId && f.data.event.type === 'message')
        .map((f) => f.data.event.message as string)
        .filter((m) => m.startsWith('prune: '));
      expect(pruneMessages.some((m) => m.startsWith('prune: removing tree'))).toBe(true);
      expect(existsSync(stale)).toBe(false);
      // The live worker reports the new shadow diff count (state/analytics/upgrade_shadow.json).
      const status0 = await http(url, 'GET', '/status', { token: TOKEN });
      const diffs = status0.body.shadow.count as number;
      expect(diffs).toBeGreaterThan(0);
      const orchestrator = await traffic.sessions[0]!.call('orchestrator_status', {});
      expect((orchestrator.value as { queue: { shadow_diffs: { count: number } } }).queue.shadow_diffs.count).toBe(diffs);

      const accepted = await http(url, 'POST', `/deployments/${upgradeId}/promote`, {
        token: TOKEN,
        body: { observeMs: '1s', intervalMs: '500ms', maxFailedChecks: 20, keepWarmMs: 0 },
      });
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
      expect(accepted.body.deployment).toMatchObject({ upgradeId, settling: true });
      const id = accepted.body.deployment.id as string;
      await events.until((frames) => frames.some((f) => f.event === 'deployment-settled' && f.data.id === id), 90_000);
      expect(events.frames.find((f) => f.event === 'deployment-settled')!.data).toMatchObject({ id, state: 'promoted' });
      const lanes = await http(url, 'GET', '/lanes', { token: TOKEN });
      const byName = Object.fromEntries((lanes.body.lanes as Array<{ name: string; status: string }>).map((l) => [l.name, l.status]));
      expect(byName).toMatchObject({ green: 'ready', blue: 'stopped' });
      expect((await r.admin.lanes()).active).toBe('green');
      // The candidate serves the change it was upgraded with.
      const [session] = traffic.sessions;
      expect((await session!.call('autopilot_status', {})).value).toMatchObject({ mode_source: 'settings' });

      const rolled = await http(url, 'POST', `/deployments/${id}/rollback`, { token: TOKEN, body: { reason: 'serve e2e' } });
      expect(rolled.status, JSON.stringify(rolled.body)).toBe(200);
      expect(rolled.body.deployment).toMatchObject({ id, state: 'rolled_back', settling: false });
      expect((await r.admin.lanes()).active).toBe('blue');
      const status = await http(url, 'GET', '/status', { token: TOKEN });
      expect(status.body.deployment).toMatchObject({ id, state: 'rolled_back', running: false });

      await traffic.stop();
      expectNoFailedRequests(traffic);
    } finally {
      await events.close();
    }
  }, 360_000);

  it('finishes by itself a deployment whose `wvo promote` was killed -9 (no `wvo resume`), and leaves a live one alone', async () => {
    const r = await rigs.rig({ drainTimeoutMs: 500 });
    const upgrade = r.stage();
    await serve(r); // reconcile loop every 5 s (the default)
    const traffic = await rigs.traffic(r.proxy.url, { sessions: 10, writers: 1, intervalMs: 25, maxMs: 90_000 });
    const promote = spawnWvo(r, ['promote', upgrade.id, '--observe', '8s', '--interval', '500ms', '--max-failed-checks', '100', '--keep-warm', '0']);
    const id = await waitForDeploymentId(r);
    await r.waitForState(id, ['observing'], 40_000);
    // At least one reconcile tick passes while the promote lives: the lease keeps the server away.
    await sleep(5_500);
    expect(r.store.transitions(id).map((t) => t.event)).not.toContain('resume');
    expect(r.store.lease(id)?.pid).toBe(promote.pid);

    promote.kill('SIGKILL');
    expect((await promote).signal).toBe('SIGKILL');
    const done = await r.waitForState(id, ['promoted', 'rolled_back'], 60_000);
    expect(done.state).toBe('promoted');
    const resume = r.store.transitions(id).find((t) => t.event === 'resume');
    expect(resume?.reason).toBeDefined();
    expect((await r.admin.lanes()).active).toBe('green');

    await traffic.stop();
    expectNoFailedRequests(traffic);
  }, 180_000);

  it('stops the kept-warm old lane when the window ends, though the promote that waited on it was killed -9', async () => {
    const r = await rigs.rig({ drainTimeoutMs: 500 });
    const upgrade = r.stage();
    await serve(r);
    const promote = spawnWvo(r, ['promote', upgrade.id, '--observe', '1s', '--interval', '500ms', '--max-failed-checks', '100', '--keep-warm', '4s']);
    const id = await waitForDeploymentId(r);
    const promoted = await r.waitForState(id, ['promoted'], 60_000);
    expect(promoted.warmUntil).not.toBeNull();
    expect((await r.runtime.getLane('blue'))?.status).toBe('ready'); // kept warm
    promote.kill('SIGKILL');
    expect((await promote).signal).toBe('SIGKILL');

    const deadline = Date.now() + 40_000;
    while ((await r.runtime.getLane('blue'))?.status !== 'stopped') {
      if (Date.now() > deadline) throw new Error(`blue still ${(await r.runtime.getLane('blue'))?.status} after the keep-warm window`);
      await sleep(250);
    }
    expect(Date.now()).toBeGreaterThanOrEqual(promoted.warmUntil!);
    expect(r.store.get(id)).toMatchObject({ state: 'promoted', warmUntil: null });
    expect(r.store.transitions(id).map((t) => t.event)).toContain('warm_elapsed');
    expect((await r.admin.lanes()).active).toBe('green');
  }, 120_000);
});

async function waitForDeploymentId(r: DeployRig): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = r.store.list()[0];
    if (found) return found.id;
    if (Date.now() > deadline) throw new Error('the promote process created no deployment');
    await sleep(25);
  }
}
