import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** A labelled temp state root (`wvo-worker-test-*`), so a crashed run's leftovers can be found. */
export function tempStateRoot(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'wvo-worker-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function connect(url: string, name = 'worker-test'): Promise<Client> {
  const client = new Client({ name, version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', url)));
  return client;
}

export interface ToolReply {
  readonly isError: boolean;
  readonly body: Record<string, any>;
}

/** Calls a tool and parses its JSON text content. */
export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolReply> {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as Array<{ type: string; text: string }>;
  return { isError: result.isError === true, body: JSON.parse(content[0]!.text) as Record<string, any> };
}

/** sha256 of every file in the state root's top level (db, -wal, -shm), by name. */
export function hashFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (existsSync(path) && !name.endsWith('/')) {
      try {
        out[name] = createHash('sha256').update(readFileSync(path)).digest('hex');
      } catch {
        out[name] = 'directory';
      }
    }
  }
  return out;
}

/** A raw MCP POST (for malformed input the SDK client would never send). */
export async function rawPost(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; text: string }> {
  const response = await fetch(new URL('/mcp', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body,
  });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

export const WORKER_MAIN = join(import.meta.dirname, '..', '..', 'dist', 'worker', 'src', 'main.js');

export interface WorkerProcess {
  readonly url: string;
  readonly pid: number;
  /** SIGTERM and wait for the exit (graceful: WAL checkpointed). */
  stop(): Promise<number | null>;
}

/** Starts `wvo-worker serve` (the dist build) as its own process and waits for its `listening` line. */
export async function startWorkerProcess(stateRoot: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const { spawn } = await import('node:child_process');
  const { createInterface } = await import('node:readline');
  if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: run \`npm run build\``);
  const child = spawn(process.execPath, [WORKER_MAIN, 'serve', '--port', '0', '--state', stateRoot], {
    env: { ...process.env, WVO_LOG_LEVEL: 'warn', WVO_LOG_PRETTY: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    void exit.then((code) => reject(new Error(`worker exited early (${code}): ${stderr}`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exit;
    },
  };
}

/**
 * Worker processes, their state roots and MCP clients for one describe block, all released by
 * `release()` (call it in afterEach): tests that start several workers (live, forks) share this.
 */
export function workerRig(token: string) {
  const cleanups: Array<() => void> = [];
  const processes: WorkerProcess[] = [];
  const clients: Client[] = [];
  return {
    dir(): string {
      const made = tempStateRoot();
      cleanups.push(made.cleanup);
      return made.dir;
    },
    async start(stateRoot: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
      const worker = await startWorkerProcess(stateRoot, { WVO_ADMIN_TOKEN: token, ...env });
      processes.push(worker);
      return worker;
    },
    async client(url: string, name?: string): Promise<Client> {
      const made = await connect(url, name);
      clients.push(made);
      return made;
    },
    /** Close every client and stop every worker (state roots stay, to be read). */
    async stopAll(): Promise<void> {
      await Promise.all(clients.splice(0).map((client) => client.close()));
      await Promise.all(processes.splice(0).map((worker) => worker.stop()));
    },
    async release(): Promise<void> {
      await this.stopAll();
      cleanups.splice(0).forEach((cleanup) => cleanup());
    },
  };
}
