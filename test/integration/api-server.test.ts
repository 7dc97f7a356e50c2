import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ControllerClient, startController } from '../../controller/src/api/index.js';
import { acquireLock } from '../../controller/src/harness/lock.js';
import { localImageStore } from '../../controller/src/runtime/index.js';
import { seedState } from '../../worker/src/index.js';
import { REPO_ROOT, TOKEN, http, openEvents, startApiRig, waitUntil, type ApiRig } from '../helpers/api-rig.js';

/**
 * The controller API on a real port with real HTTP: token on every route, lanes from a real
 * local runtime, upgrades validated by the CLI's schema and run in the background, SSE events.
 */
let rig: ApiRig;

beforeAll(async () => {
  rig = await startApiRig();
});

afterAll(async () => {
  await rig?.close();
});

function experiments(): string[] {
  const dir = join(rig.projectRoot, 'experiments', 'mcp', 'upgrade');
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('token', () => {
  it('/healthz answers without a token', async () => {
    const res = await http(rig.url, 'GET', '/healthz', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
  });

  it.each([
    ['GET', '/lanes'],
    ['GET', '/metrics'],
    ['GET', '/status'],
    ['GET', '/deployments'],
    ['GET', '/events'],
    ['GET', '/no-such-route'],
  ] as const)('%s %s without a token or with a wrong one → 401 WVO_UNAUTHORIZED', async (method, path) => {
    for (const token of [null, 'wrong-token', '', `${TOKEN}x`]) {
      const res = await http(rig.url, method, path, { token });
      expect(res.status, `token ${JSON.stringify(token)}`).toBe(401);
      expect(res.body.ok).toBe(false);
      expect(res.body.error.code).toBe('WVO_UNAUTHORIZED');
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
  });

  it('POST /upgrades with a wrong token starts nothing', async () => {
    const events = await openEvents(rig.url);
    try {
      const before = await rig.controller.metrics.text();
      for (const token of [null, 'wrong-token']) {
        const res = await http(rig.url, 'POST', '/upgrades', { token, body: { workspace: rig.dir, skipTests: true } });
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('WVO_UNAUTHORIZED');
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(events.frames).toEqual([]);
      expect(experiments()).toEqual([]);
      expect(existsSync(join(rig.stateRoot, 'upgrade.lock'))).toBe(false);
      expect(before).not.toMatch(/wvo_controller_upgrades_total\{/);
      expect(await rig.controller.metrics.text()).not.toMatch(/wvo_controller_upgrades_total\{/);
    } finally {
      await events.close();
    }
  });

  it('promote and rollback with a wrong token change nothing', async () => {
    for (const path of ['/deployments/latest/promote', '/deployments/dep-1/rollback']) {
      const res = await http(rig.url, 'POST', path, { token: 'nope', body: {} });
      expect(res.status).toBe(401);
    }
    expect(rig.controller.store.list()).toEqual([]);
  });

  it('refuses to start without a token, and --insecure-no-token off loopback', async () => {
    const context = { projectRoot: rig.projectRoot, stateRoot: rig.stateRoot, runtime: rig.runtime, images: localImageStore(rig.projectRoot) };
    await expect(startController({ listen: '127.0.0.1:0' }, context)).rejects.toMatchObject({ code: 'WVO_CONTROLLER_TOKEN_MISSING' });
    await expect(startController({ listen: '0.0.0.0:0', insecureNoToken: true }, context)).rejects.toMatchObject({
      code: 'WVO_CONTROLLER_INSECURE_NOT_LOOPBACK',
    });
    await expect(startController({ listen: 'nowhere', token: TOKEN }, context)).rejects.toMatchObject({ code: 'WVO_CONTROLLER_ADDRESS_INVALID' });
  });

  it('--insecure-no-token on loopback serves without a header', async () => {
    const open = await startApiRig({ token: undefined, insecureNoToken: true });
    try {
      expect((await http(open.url, 'GET', '/deployments', { token: null })).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});

describe('routes', () => {
  it('the 404 hint names every route family the server registered (soaks and fleets too)', async () => {
    const missing = await http(rig.url, 'GET', '/no-such-route');
    expect(missing.status).toBe(404);
    const hint = missing.body.error.hint as string;
    expect(hint.startsWith('routes: ')).toBe(true);
    const named = hint.slice('routes: '.length).split('; ');
    for (const route of ['GET /healthz', 'GET /metrics', 'GET /status', 'GET /lanes', 'POST /upgrades', 'GET /upgrades/:id', 'GET /deployments', 'POST /deployments/:id/promote', 'POST /deployments/:id/rollback', 'GET /events', 'GET /ui', 'GET|POST /fleets', 'POST /fleets/:id/resume', 'POST /soaks', 'GET /soaks/:id', 'POST /soaks/:id/stop']) {
      expect(named).toContain(route);
    }
    expect(hint).not.toContain('HEAD');
  });

  it('unknown route → 404 JSON with a code; bad JSON → 400; body over the limit → 413', async () => {
    const missing = await http(rig.url, 'GET', '/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('WVO_API_NOT_FOUND');

    const bad = await http(rig.url, 'POST', '/upgrades', { rawBody: '{not json' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('WVO_API_BAD_REQUEST');

    const big = await http(rig.url, 'POST', '/upgrades', { rawBody: JSON.stringify({ suite: 'x'.repeat(300 * 1024) }) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('WVO_API_BODY_TOO_LARGE');
    expect(experiments()).toEqual([]);
  });

  it('GET /lanes lists a real lane started on the local runtime', async () => {
    const state = mkdtempSync(join(tmpdir(), 'wvo-api-lane-'));
    seedState({ stateRoot: state, tasks: 20, seed: 3 });
    const name = `api-lanes-${process.pid}`;
    try {
      const started = await rig.runtime.startLane({ name, image: REPO_ROOT, stateDir: state, role: 'live' });
      const res = await http(rig.url, 'GET', '/lanes');
      expect(res.status).toBe(200);
      expect(res.body.runtime).toBe('local');
      const lane = res.body.lanes.find((l: { name: string }) => l.name === name);
      expect(lane).toMatchObject({ name, role: 'live', status: 'ready', url: started.url, image: REPO_ROOT });

      const client = new ControllerClient({ url: rig.url, token: TOKEN });
      expect((await client.lanes()).lanes.map((l) => l.name)).toContain(name);
      const status = await client.status();
      expect(status.lanes).toContainEqual({ name, role: 'live', image: REPO_ROOT, status: 'ready', url: started.url ?? null });
    } finally {
      await rig.runtime.removeLane(name).catch(() => undefined);
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('POST /upgrades with invalid options → 400 WVO_OPTIONS_INVALID naming the field; nothing starts', async () => {
    const cases: Array<[unknown, string]> = [
      [{ skipTests: 'yes' }, 'skipTests'],
      [{ testCommand: [] }, 'testCommand'],
      [{ readyTimeoutMs: -5 }, 'readyTimeoutMs'],
      [{ workspace: 42 }, 'workspace'],
    ];
    for (const [body, field] of cases) {
      const res = await http(rig.url, 'POST', '/upgrades', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('WVO_OPTIONS_INVALID');
      expect(res.body.error.subject).toBe(field);
      expect(res.body.error.message).toContain(field);
    }
    const unknown = await http(rig.url, 'POST', '/upgrades', { body: { bogus: true } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('bogus');
    expect(experiments()).toEqual([]);
  });

  it('deployments: empty list, unknown id → 404, promote without an executor → 501 coded', async () => {
    expect((await http(rig.url, 'GET', '/deployments')).body).toEqual({ ok: true, running: null, deployments: [] });
    const missing = await http(rig.url, 'GET', '/deployments/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('WVO_DEPLOYMENT_NOT_FOUND');
    const rollback = await http(rig.url, 'POST', '/deployments/nope/rollback', { body: {} });
    expect(rollback.status).toBe(404);
    const badOption = await http(rig.url, 'POST', '/deployments/latest/promote', { body: { observeMs: 'soon' } });
    expect(badOption.status).toBe(400);
    expect(badOption.body.error.subject).toBe('observeMs');
    const promote = await http(rig.url, 'POST', '/deployments/latest/promote', { body: {} });
    expect(promote.status).toBe(501);
    expect(promote.body.error.code).toBe('WVO_PROMOTION_UNAVAILABLE');
  });

  it('GET /upgrades/:id of an unknown or unsafe id → 404', async () => {
    for (const id of ['nope', '..%2F..%2Fetc']) {
      const res = await http(rig.url, 'GET', `/upgrades/${id}`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('WVO_UPGRADE_NOT_FOUND');
    }
  });
});

describe('upgrades and events', () => {
  let notAProject: string;
  afterEach(() => rmSync(notAProject, { recursive: true, force: true }));

  it('streams the step events of a real upgrade that fails at preflight; steps.json and metrics follow', async () => {
    notAProject = mkdtempSync(join(tmpdir(), 'wvo-api-notproject-'));
    mkdirSync(join(notAProject, 'src'));
    const events = await openEvents(rig.url);
    try {
      expect(events.status).toBe(200);
      expect(String(events.headers['content-type'])).toContain('text/event-stream');
      const res = await http(rig.url, 'POST', '/upgrades', { body: { workspace: notAProject, skipTests: true } });
      expect(res.status).toBe(202);
      const id: string = res.body.id;
      expect(res.headers.location).toBe(`/upgrades/${id}`);

      await events.until((f) => f.some((e) => e.event === 'upgrade-finished' && e.data.id === id));
      const mine = events.frames.filter((f) => f.data.id === id);
      expect(mine.map((f) => f.event)).toEqual(['upgrade-started', 'upgrade-step', 'upgrade-step', 'upgrade-finished']);
      expect(mine[1]!.data.event).toEqual({ type: 'step-start', name: 'preflight' });
      expect(mine[2]!.data.event.type).toBe('step-end');
      expect(mine[2]!.data.event.step).toMatchObject({ name: 'preflight', status: 'failed', detail: { error: { code: 'WVO_NOT_A_PROJECT' } } });
      expect(mine[3]!.data).toMatchObject({ outcome: 'failed', exit_code: 1, error: { code: 'WVO_NOT_A_PROJECT' } });

      await waitUntil(() => rig.controller.operations.getUpgrade(id).running === false);
      const upgrade = await http(rig.url, 'GET', `/upgrades/${id}`);
      expect(upgrade.status).toBe(200);
      expect(upgrade.body.upgrade).toMatchObject({ id, outcome: 'failed', running: false });
      expect(upgrade.body.upgrade.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([['preflight', 'failed']]);

      const metrics = await http(rig.url, 'GET', '/metrics');
      expect(metrics.body).toMatch(/wvo_controller_upgrades_total\{outcome="failed"\} 1/);
      expect(metrics.body).toMatch(/wvo_controller_deployments\{state="promoted"\} 0/);
      expect(metrics.body).toMatch(/wvo_controller_api_requests_total\{method="POST",route="\/upgrades",code="202"\} 1/);
      expect(metrics.body).toMatch(/wvo_controller_sse_clients 1/);
      expect(events.comments).toContain('connected');
    } finally {
      await events.close();
    }
  });

  it('sends heartbeats, and a client that disconnects is removed', async () => {
    const events = await openEvents(rig.url);
    await waitUntil(() => events.comments.includes('heartbeat'), 5_000);
    const bus = rig.controller.bus;
    expect(bus.size).toBeGreaterThanOrEqual(1);
    const before = bus.size;
    await events.close();
    await waitUntil(() => bus.size === before - 1, 5_000);
    expect(await rig.controller.metrics.text()).toMatch(/wvo_controller_sse_clients 0/);
  });

  it('a second upgrade while the lock is held → 409 with the lock error; nothing starts', async () => {
    notAProject = mkdtempSync(join(tmpdir(), 'wvo-api-notproject-'));
    const lock = acquireLock(rig.stateRoot, { id: 'someone-else' });
    try {
      const before = experiments();
      const res = await http(rig.url, 'POST', '/upgrades', { body: { workspace: notAProject } });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('WVO_LOCK_HELD');
      expect(res.body.error.message).toContain('someone-else');
      expect(experiments()).toEqual(before);
    } finally {
      lock.release();
    }
  });

  it('one at a time inside the server too: a second POST while the first is in preflight → 409', async () => {
    // A project-shaped git repository with untracked files: preflight runs git (real processes),
    // then fails WVO_DIRTY_TREE; the second POST lands while those run.
    notAProject = mkdtempSync(join(tmpdir(), 'wvo-api-dirty-'));
    for (const dir of ['worker/src', 'images']) mkdirSync(join(notAProject, dir), { recursive: true });
    for (const file of ['package.json', 'package-lock.json', 'images/worker.Dockerfile']) writeFileSync(join(notAProject, file), '{}');
    await execa('git', ['init', '-q'], { cwd: notAProject });
    const first = await http(rig.url, 'POST', '/upgrades', { body: { workspace: notAProject } });
    expect(first.status).toBe(202);
    const second = await http(rig.url, 'POST', '/upgrades', { body: { workspace: notAProject } });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('WVO_LOCK_HELD');
    expect(second.body.error.details.owner.id).toBe(first.body.id);
    await waitUntil(() => rig.controller.operations.getUpgrade(first.body.id).running === false);
    const upgrade = rig.controller.operations.getUpgrade(first.body.id);
    expect(upgrade.steps[0]).toMatchObject({ name: 'preflight', status: 'failed', detail: { error: { code: 'WVO_DIRTY_TREE' } } });
    expect(experiments()).not.toContain(second.body.id);
  });
});

describe('client', () => {
  it('keeps error codes and reports an unreachable controller', async () => {
    const wrong = new ControllerClient({ url: rig.url, token: 'wrong' });
    await expect(wrong.deployments()).rejects.toMatchObject({ code: 'WVO_UNAUTHORIZED', status: 401 });
    const right = new ControllerClient({ url: rig.url, token: TOKEN });
    await expect(right.deployment('nope')).rejects.toMatchObject({ code: 'WVO_DEPLOYMENT_NOT_FOUND', status: 404 });
    expect(await right.healthz()).toEqual({ ok: true });
    expect(await right.metrics()).toContain('wvo_controller_api_requests_total');
    const closed = await startApiRig();
    const url = closed.url;
    await closed.close();
    await expect(new ControllerClient({ url, token: TOKEN, timeoutMs: 2_000 }).healthz()).rejects.toMatchObject({ code: 'WVO_CONTROLLER_UNREACHABLE' });
  });
});
