import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startWorker, type WorkerHandle } from '../../worker/src/index.js';
import { call, connect, hashFiles, tempStateRoot } from './worker-helpers.js';

const TOKEN = 'admin-token-for-tests';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  delete process.env.WVO_ADMIN_TOKEN;
});

/** A real worker on a temp state root; the admin token is read from the env at start. */
async function worker(options: { token?: string; dryRun?: boolean; stateRoot?: string } = {}): Promise<{ handle: WorkerHandle; dir: string }> {
  let dir = options.stateRoot;
  if (!dir) {
    const temp = tempStateRoot();
    cleanups.push(temp.cleanup);
    dir = temp.dir;
  }
  if (options.token) process.env.WVO_ADMIN_TOKEN = options.token;
  else delete process.env.WVO_ADMIN_TOKEN;
  const handle = await startWorker({ stateRoot: dir, port: 0, dryRun: options.dryRun ?? false });
  cleanups.push(() => handle.close());
  return { handle, dir };
}

function put(url: string, name: string, body: unknown, token?: string) {
  return fetch(`${url}/admin/flags/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));
}

describe('worker: PUT /admin/flags/:name', () => {
  it('answers 404 when no admin token is configured', async () => {
    const { handle } = await worker();
    const res = await put(handle.url, 'PROMPT_MODE', { value: 'compact' }, TOKEN);
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('WVO_ADMIN_DISABLED');
  });

  it('refuses a missing or wrong token with 401 and changes nothing', async () => {
    const { handle, dir } = await worker({ token: TOKEN });
    for (const token of [undefined, 'wrong-token']) {
      const res = await put(handle.url, 'PROMPT_MODE', { value: 'compact' }, token);
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe('WVO_ADMIN_UNAUTHORIZED');
    }
    const db = new Database(join(dir, 'orchestrator.db'), { readonly: true });
    cleanups.push(() => void db.close());
    expect(db.prepare("SELECT COUNT(*) AS n FROM settings WHERE key = 'PROMPT_MODE'").get()).toEqual({ n: 0 });
    expect(db.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'flag_changed'").get()).toEqual({ n: 0 });
  });

  it('sets a flag (on/off aliases too), records an event, and tools see it at once', async () => {
    const { handle, dir } = await worker({ token: TOKEN });
    const client = await connect(handle.url);
    cleanups.push(() => client.close());
    expect((await call(client, 'autopilot_status')).body.flags.PROMPT_MODE).toMatchObject({ value: 'standard', source: 'default' });

    const on = await put(handle.url, 'PROMPT_MODE', { value: 'on' }, TOKEN);
    expect(on.status).toBe(200);
    expect(on.json).toMatchObject({ ok: true, flag: 'PROMPT_MODE', value: 'compact', previous: null, changed: true });
    expect((await call(client, 'autopilot_status')).body.flags.PROMPT_MODE).toMatchObject({ value: 'compact', source: 'db' });

    const again = await put(handle.url, 'PROMPT_MODE', { value: 'compact' }, TOKEN);
    expect(again.json).toMatchObject({ changed: false, previous: 'compact' });
    const off = await put(handle.url, 'PROMPT_MODE', { value: 'off' }, TOKEN);
    expect(off.json).toMatchObject({ value: 'standard', previous: 'compact', changed: true });
    expect((await put(handle.url, 'SANDBOX_MODE', { value: 'strict' }, TOKEN)).status).toBe(200);

    const db = new Database(join(dir, 'orchestrator.db'), { readonly: true });
    cleanups.push(() => void db.close());
    const events = db.prepare("SELECT payload FROM events WHERE kind = 'flag_changed' ORDER BY id").all() as Array<{ payload: string }>;
    expect(events.map((e) => JSON.parse(e.payload))).toEqual([
      { flag: 'PROMPT_MODE', from: null, to: 'compact', via: 'admin' },
      { flag: 'PROMPT_MODE', from: 'compact', to: 'standard', via: 'admin' },
      { flag: 'SANDBOX_MODE', from: null, to: 'strict', via: 'admin' },
    ]);
  });

  it('refuses unknown flags, bad values and bad bodies with 400', async () => {
    const { handle } = await worker({ token: TOKEN });
    const cases: Array<[string, unknown, string]> = [
      ['NOPE', { value: 'on' }, 'name'],
      ['PROMPT_MODE', { value: 'loud' }, 'value'],
      ['PROMPT_MODE', { value: 3 }, 'value'],
      ['PROMPT_MODE', '{not json', 'body'],
    ];
    for (const [name, body, subject] of cases) {
      const res = await put(handle.url, name, body, TOKEN);
      expect(res.status, `${name} ${JSON.stringify(body)}`).toBe(400);
      expect(res.json.error).toMatchObject({ code: 'WVO_ADMIN_FLAG_INVALID', subject });
    }
  });

  it('refuses on a DRY_RUN lane, which never writes its state', async () => {
    const seeded = tempStateRoot();
    cleanups.push(seeded.cleanup);
    const live = await startWorker({ stateRoot: seeded.dir, port: 0 });
    await live.close();
    const before = hashFiles(seeded.dir);
    const { handle } = await worker({ token: TOKEN, dryRun: true, stateRoot: seeded.dir });
    const res = await put(handle.url, 'PROMPT_MODE', { value: 'compact' }, TOKEN);
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe('WVO_ADMIN_DRY_RUN');
    await handle.close();
    expect(hashFiles(seeded.dir)['orchestrator.db']).toBe(before['orchestrator.db']);
  });
});
