import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as connectSocket } from 'node:net';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dbPathFor, MIGRATIONS, seedState, startWorker } from '../../worker/src/index.js';
import { call, connect, rawPost, tempStateRoot } from './worker-helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'worker', 'src', 'main.js');
const run = promisify(execFile);

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'late', version: '1' } },
});

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], { env: { ...process.env, WVO_LOG_PRETTY: '0', ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Starts `wvo-worker serve` and resolves with its `listening` line. */
function serve(stateRoot: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--state', stateRoot], {
    env: { ...process.env, WVO_LOG_PRETTY: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => {
      const event = JSON.parse(line) as { event: string; port: number; url: string };
      expect(event).toMatchObject({ event: 'listening', port: expect.any(Number), url: `http://127.0.0.1:${event.port}` });
      resolve({ child, url: event.url, exit });
    });
    void exit.then((code) => reject(new Error(`worker exited early (${code}): ${stderr}`)));
  });
}

async function waitForSpawn(url: string): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if (/wvo_worker_executor_spawns_total 1/.test(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the call never started');
}

describe('wvo-worker process', () => {
  let state: ReturnType<typeof tempStateRoot>;
  const children: ChildProcess[] = [];
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test builds first)`);
  });
  beforeEach(() => {
    state = tempStateRoot();
  });
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    state.cleanup();
  });

  it('runs the one-file bundle when it is fresh, the modules when told or when the bundle is older than the build', async () => {
    const entryOf = async (env: Record<string, string>) => {
      const { child, url } = await serve(state.dir, env);
      children.push(child);
      const { entry } = (await (await fetch(`${url}/version`)).json()) as { entry: string };
      child.kill('SIGTERM');
      return entry;
    };
    expect(await entryOf({})).toBe('bundle');
    expect(await entryOf({ WVO_WORKER_BUNDLE: '0' })).toBe('modules');
    // A plain `tsc` after `npm run build` leaves an older bundle behind: the modules win.
    const cli = join(ROOT, 'dist', 'worker', 'src', 'cli.js');
    const bundle = join(ROOT, 'dist', 'worker', 'bundle', 'main.mjs');
    const before = statSync(bundle);
    try {
      utimesSync(bundle, before.atime, new Date(statSync(cli).mtimeMs - 60_000));
      expect(await entryOf({})).toBe('modules');
    } finally {
      utimesSync(bundle, before.atime, before.mtime);
    }
  });

  it('a tool call answers in one write: status line, headers and the result event arrive together', async () => {
    seedState({ stateRoot: state.dir, tasks: 30, seed: 9 });
    const { child, url } = await serve(state.dir);
    children.push(child);
    const { port } = new URL(url);
    /** One HTTP/1.1 POST on a fresh socket; resolves with each chunk as the socket delivered it, once the answer to `id` is in. */
    const post = (body: string, session?: string) =>
      new Promise<string[]>((resolve, reject) => {
        const id = (JSON.parse(body) as { id: number }).id;
        const chunks: string[] = [];
        const socket = connectSocket(Number(port), '127.0.0.1', () => {
          socket.write(
            `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n` +
              `MCP-Protocol-Version: 2025-06-18\r\n${session ? `Mcp-Session-Id: ${session}\r\n` : ''}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
          );
        });
        socket.on('data', (chunk: Buffer) => {
          chunks.push(chunk.toString());
          // The SDK answers `connection: keep-alive` whatever we ask: stop at our answer.
          if (chunks.join('').includes(`"id":${id}}`)) {
            socket.destroy();
            resolve(chunks);
          }
        });
        socket.on('error', reject);
      });
    const init = (await post(INITIALIZE)).join('');
    const session = /mcp-session-id: (\S+)/i.exec(init)?.[1];
    expect(session, init).toBeDefined();
    for (let i = 0; i < 5; i++) {
      const chunks = await post(JSON.stringify({ jsonrpc: '2.0', id: 10 + i, method: 'tools/call', params: { name: 'orchestrator_status', arguments: {} } }), session);
      expect(chunks[0]).toMatch(/^HTTP\/1\.1 200/);
      expect(chunks[0], 'the headers went out alone, before the result').toContain('event: message');
    }
  });

  it('SIGTERM during an in-flight call: the call finishes, new sessions are refused, WAL checkpointed, exit 0', async () => {
    seedState({ stateRoot: state.dir, tasks: 30, seed: 9 });
    const { child, url, exit } = await serve(state.dir, { WVO_BUILD_ID: 'b-123' });
    children.push(child);
    expect(await (await fetch(`${url}/version`)).json()).toMatchObject({ build_id: 'b-123', schema_version: MIGRATIONS.length, dry_run: false });
    const client = await connect(url);
    client.onerror = () => undefined;
    try {
      const inFlight = call(client, 'dispatch', { agent: 'slow', command: { kind: 'exec', program: 'sleep', args: ['1.5'] } });
      await waitForSpawn(url);
      const sentAt = Date.now();
      child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 150));
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ ready: false, code: 'WVO_DRAINING' });
      const late = await rawPost(url, INITIALIZE);
      expect(late.status).toBe(503);
      expect(late.json).toMatchObject({ error: { data: { code: 'WVO_DRAINING' } } });

      const reply = await inFlight;
      expect(reply).toMatchObject({ isError: false, body: { execution: { status: 'succeeded', exit_code: 0, argv: ['sleep', '1.5'] } } });
      expect(await exit).toBe(0);
      expect(Date.now() - sentAt).toBeGreaterThan(500);
    } finally {
      await client.close().catch(() => undefined);
    }
    const wal = `${dbPathFor(state.dir)}-wal`;
    expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);
    const db = new Database(dbPathFor(state.dir), { readonly: true });
    try {
      expect(db.prepare("SELECT status, exit_code FROM dispatches WHERE agent = 'slow'").get()).toEqual({ status: 'succeeded', exit_code: 0 });
    } finally {
      db.close();
    }
  });

  it('in process: close() waits for in-flight calls and refuses new sessions meanwhile', async () => {
    seedState({ stateRoot: state.dir, tasks: 10, seed: 2 });
    const worker = await startWorker({ stateRoot: state.dir, port: 0 });
    const client = await connect(worker.url);
    client.onerror = () => undefined;
    const inFlight = call(client, 'dispatch', { command: { kind: 'exec', program: 'sleep', args: ['0.8'] } });
    await waitForSpawn(worker.url);
    const closed = worker.close();
    expect((await rawPost(worker.url, INITIALIZE)).json).toMatchObject({ error: { data: { code: 'WVO_DRAINING' } } });
    expect((await inFlight).body.execution.status).toBe('succeeded');
    await closed;
    await client.close().catch(() => undefined);
  });

  it('serve: an unwritable state root or a bad env var is a coded error and a non-zero exit', async () => {
    writeFileSync(join(state.dir, 'file'), 'x');
    const unwritable = await cli(['serve', '--port', '0', '--state', join(state.dir, 'file', 'state')]);
    expect(unwritable.code).toBe(1);
    expect(unwritable.stderr).toContain('WVO_STATE_ROOT_UNWRITABLE');
    const badPort = await cli(['serve', '--state', state.dir], { WVO_PORT: 'eighty' });
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('WVO_WORKER_OPTIONS_INVALID');
    const badFlags = await cli(['serve', '--port', '0', '--state', state.dir], { WVO_FLAGS: 'PROMPT_MODE=loud' });
    expect(badFlags.code).toBe(2);
    expect(badFlags.stderr).toContain('WVO_FLAGS');
  });

  it('serve: WVO_SANDBOX=1 is sandbox mode; with WVO_DRY_RUN=1 too it refuses to start, naming both', async () => {
    seedState({ stateRoot: state.dir, tasks: 10, seed: 2 });
    const { child, url } = await serve(state.dir, { WVO_SANDBOX: '1' });
    children.push(child);
    expect(await (await fetch(`${url}/version`)).json()).toMatchObject({ mode: 'sandbox', dry_run: false });
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^wvo_worker_sandbox 1$/m);
    const client = await connect(url);
    try {
      expect((await call(client, 'plan_next', { limit: 1 })).body).toMatchObject({ sandbox: true, dry_run: false });
    } finally {
      await client.close();
    }
    child.kill('SIGTERM');
    const other = tempStateRoot();
    try {
      const both = await cli(['serve', '--port', '0', '--state', other.dir], { WVO_DRY_RUN: '1', WVO_SANDBOX: '1' });
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('WVO_WORKER_MODE_CONFLICT');
      expect(both.stderr).toContain('WVO_DRY_RUN');
      expect(both.stderr).toContain('WVO_SANDBOX');
      expect(readdirSync(other.dir)).toEqual([]);
    } finally {
      other.cleanup();
    }
  });

  it('seed and migrate subcommands print JSON; migrate refuses a newer schema', async () => {
    const seeded = await cli(['seed', '--state', state.dir, '--tasks', '40', '--seed', '3']);
    expect(seeded.code).toBe(0);
    expect(JSON.parse(seeded.stdout)).toMatchObject({ tasks: 40, seed: 3, critics: 5 });
    const again = await cli(['seed', '--state', state.dir, '--tasks', '40']);
    expect(again.code).toBe(2);
    const migrated = await cli(['migrate', '--state', state.dir]);
    expect(JSON.parse(migrated.stdout)).toEqual({ from: MIGRATIONS.length, to: MIGRATIONS.length, applied: [] });
    const db = new Database(dbPathFor(state.dir));
    db.pragma(`user_version = ${MIGRATIONS.length + 5}`);
    db.close();
    const refused = await cli(['migrate', '--state', state.dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('WVO_SCHEMA_TOO_NEW');
  });

  it('--help works for every subcommand', async () => {
    for (const args of [['--help'], ['serve', '--help'], ['seed', '--help'], ['migrate', '--help']]) {
      const help = await cli(args);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Usage: wvo-worker');
    }
  });
});
