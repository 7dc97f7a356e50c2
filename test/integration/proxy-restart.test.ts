import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, type McpSession } from '../../common/src/mcp-client.js';
import { ProxyAdminClient, RouteTableSchema } from '../../controller/src/proxy/index.js';
import { startFixtureServer, type FixtureServer } from '../fixtures/mcp-fixture-server.js';
import { sleep, TOKEN, waitUntil } from '../helpers/proxy-harness.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'dist/controller/src/cli/main.js');

interface Spawned {
  child: ChildProcess;
  url: string;
  admin: string;
  active: string | null;
}

/** Start `wvo proxy` from the build and read its `listening` line. */
async function spawnProxy(args: string[]): Promise<Spawned> {
  const child = spawn(process.execPath, [MAIN, 'proxy', ...args], {
    env: { ...process.env, WVO_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const lines = createInterface({ input: child.stdout! });
  const line = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`proxy exited ${code}: ${stderr}`)));
  });
  const event = JSON.parse(line) as { url: string; admin: string; active: string | null };
  return { child, ...event };
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  cleanup = [];
});

beforeAll(() => {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
}, 120_000);

describe('proxy: kill -9 and restart', () => {
  it('a restarted proxy routes to the lane that was active, and sessions on it keep working', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wvo-proxy-restart-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const blue: FixtureServer = await startFixtureServer({ lane: 'blue' });
    const green: FixtureServer = await startFixtureServer({ lane: 'green' });
    cleanup.push(() => blue.close(), () => green.close());
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const state = join(dir, 'routes.json');
    const common = ['--token-file', tokenFile, '--state', state, '--lane', `blue=${blue.url}`, '--lane', `green=${green.url}`, '--active', 'blue', '--health-interval', '100ms', '--drain-timeout', '300ms'];

    const first = await spawnProxy(['--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', ...common]);
    cleanup.push(() => kill9(first.child));
    expect(first.active).toBe('blue');
    const admin = new ProxyAdminClient({ url: first.admin, token: TOKEN });
    cleanup.push(() => admin.close());
    await waitUntil(async () => (await admin.lanes()).lanes.every((l) => l.healthy));
    await admin.switchTo('green');
    const session: McpSession = await connectMcp(`${first.url}/mcp`);
    cleanup.push(() => session.client.close());
    expect((await session.call('whoami')).value).toMatchObject({ lane: 'green' });
    expect(RouteTableSchema.parse(JSON.parse(await readFile(state, 'utf8'))).active).toBe('green');

    await sleep(400); // the session file is written 250 ms after a change
    await kill9(first.child);
    // same data-plane port, so the client opened before the crash keeps its URL
    const port = new URL(first.url).port;
    const second = await spawnProxy(['--listen', `127.0.0.1:${port}`, '--admin', '127.0.0.1:0', ...common]);
    cleanup.push(() => kill9(second.child));
    expect(second.active).toBe('green'); // --active blue is ignored: the route table wins
    const admin2 = new ProxyAdminClient({ url: second.admin, token: TOKEN });
    cleanup.push(() => admin2.close());
    expect((await admin2.lanes()).active).toBe('green');
    const fresh = await connectMcp(`${second.url}/mcp`);
    cleanup.push(() => fresh.client.close());
    expect((await fresh.call('whoami')).value).toMatchObject({ lane: 'green' });
    // the session minted before the crash was restored from the session file, still replayable
    expect((await session.call('whoami')).value).toMatchObject({ lane: 'green', session: session.sessionId });
    const restored = (await admin2.sessions()).sessions.find((s) => s.id === session.sessionId)!;
    expect(restored).toMatchObject({ lane: 'green', replayable: true });
    // so a switch after the restart moves it at the drain deadline instead of answering 404
    await admin2.switchTo('blue');
    await sleep(450);
    const moved = await session.call('whoami');
    expect(moved.isError).toBe(false);
    expect(moved.value).toMatchObject({ lane: 'blue' });
  });

  it('unix-socket admin API with a token file; bad flags exit 2 with a code', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wvo-proxy-unix-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const blue = await startFixtureServer({ lane: 'blue' });
    cleanup.push(() => blue.close());
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, TOKEN);
    const socket = join(dir, 'admin.sock');
    const proxy = await spawnProxy(['--listen', '127.0.0.1:0', '--admin', `unix:${socket}`, '--token-file', tokenFile, '--lane', `blue=${blue.url}`, '--active', 'blue']);
    cleanup.push(() => kill9(proxy.child));
    expect(proxy.admin).toBe(`unix:${socket}`);
    const admin = new ProxyAdminClient({ url: proxy.admin, token: TOKEN });
    cleanup.push(() => admin.close());
    expect((await admin.lanes()).active).toBe('blue');
    const wrong = new ProxyAdminClient({ url: proxy.admin, token: 'nope' });
    cleanup.push(() => wrong.close());
    await expect(wrong.switchTo('blue')).rejects.toMatchObject({ code: 'WVO_PROXY_UNAUTHORIZED' });

    const bad = spawn(process.execPath, [MAIN, 'proxy', '--admin', '0.0.0.0:0', '--listen', '127.0.0.1:0', '--token-file', tokenFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    bad.stderr!.on('data', (c) => (err += String(c)));
    const code = await new Promise((resolve) => bad.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('WVO_PROXY_ADMIN_NOT_LOOPBACK');
  });
});
