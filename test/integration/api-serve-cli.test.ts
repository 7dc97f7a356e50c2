import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, http } from '../helpers/api-rig.js';

/** `wvo serve` as a process: listening line, token from a file, refusals, clean SIGTERM. */
const MAIN = join(REPO_ROOT, 'dist', 'controller', 'src', 'cli', 'main.js');
let dir: string;
let child: ChildProcess | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wvo-serve-cli-'));
});

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function serve(args: string[], env: Record<string, string> = {}) {
  const { WVO_CONTROLLER_TOKEN: _drop, ...base } = process.env;
  child = spawn(process.execPath, [MAIN, 'serve', '--runtime', 'local', ...args], {
    cwd: dir,
    env: { ...base, WVO_LOG_PRETTY: '0', WVO_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = child;
  let stderr = '';
  proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const listening = new Promise<{ url: string }>((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    lines.on('line', (line) => {
      try {
        const json = JSON.parse(line) as { event?: string; url: string };
        if (json.event === 'listening') resolve(json);
      } catch {
        // not our line
      }
    });
    void exit.then((code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
  });
  return { proc, exit, listening, stderr: () => stderr };
}

describe('wvo serve', () => {
  it('serves with a token file, refuses calls without it, and stops on SIGTERM', async () => {
    writeFileSync(join(dir, 'token'), 'file-token-123\n');
    const run = serve(['--listen', '127.0.0.1:0', '--token-file', join(dir, 'token')]);
    const { url } = await run.listening;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await http(url, 'GET', '/healthz', { token: null })).status).toBe(200);
    expect((await http(url, 'GET', '/lanes', { token: null })).status).toBe(401);
    const lanes = await http(url, 'GET', '/lanes', { token: 'file-token-123' });
    expect(lanes.status).toBe(200);
    expect(lanes.body).toEqual({ ok: true, runtime: 'local', lanes: [] });
    run.proc.kill('SIGTERM');
    expect(await run.exit).toBe(0);
  });

  it('refuses to start without a token (exit 2), and --insecure-no-token off loopback', async () => {
    const none = serve(['--listen', '127.0.0.1:0']);
    await expect(none.listening).rejects.toThrow();
    expect(await none.exit).toBe(2);
    expect(none.stderr()).toContain('WVO_CONTROLLER_TOKEN_MISSING');

    const open = serve(['--listen', '0.0.0.0:0', '--insecure-no-token']);
    await expect(open.listening).rejects.toThrow();
    expect(await open.exit).toBe(2);
    expect(open.stderr()).toContain('WVO_CONTROLLER_INSECURE_NOT_LOOPBACK');
  });

  it('takes the token from WVO_CONTROLLER_TOKEN', async () => {
    const run = serve(['--listen', '127.0.0.1:0'], { WVO_CONTROLLER_TOKEN: 'env-token-456' });
    const { url } = await run.listening;
    expect((await http(url, 'GET', '/deployments', { token: 'env-token-456' })).status).toBe(200);
    expect((await http(url, 'GET', '/deployments', { token: 'file-token-123' })).status).toBe(401);
    run.proc.kill('SIGTERM');
    expect(await run.exit).toBe(0);
  });
});
