import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startController, type ControllerContext, type RunningController, type ServeOptionsInput } from '../../controller/src/api/index.js';
import { localImageStore } from '../../controller/src/runtime/index.js';
import { LocalRuntime } from '../../controller/src/runtime/local/local-runtime.js';

export const TOKEN = 'controller-test-token-0123456789';
export const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface ApiRig {
  dir: string;
  projectRoot: string;
  stateRoot: string;
  runtime: LocalRuntime;
  controller: RunningController;
  url: string;
  close(): Promise<void>;
}

/** A real controller on 127.0.0.1:0 over a temp project root and a real local runtime. */
export async function startApiRig(
  options: Partial<ServeOptionsInput> = {},
  context: Partial<ControllerContext> = {},
): Promise<ApiRig> {
  const dir = mkdtempSync(join(tmpdir(), 'wvo-api-test-'));
  const projectRoot = join(dir, 'project');
  const stateRoot = join(projectRoot, 'state');
  mkdirSync(stateRoot, { recursive: true });
  const runtime = new LocalRuntime({ runDir: join(dir, 'run'), readyTimeoutMs: 30_000 });
  let controller: RunningController;
  try {
    controller = await startController(
      { listen: '127.0.0.1:0', token: TOKEN, heartbeatMs: 200, deploymentPollMs: 100, ...options },
      { projectRoot, stateRoot, runtime, images: localImageStore(projectRoot), ...context },
    );
  } catch (error) {
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    projectRoot,
    stateRoot,
    runtime,
    controller,
    url: controller.url,
    async close() {
      try {
        await controller.close();
        for (const lane of await runtime.listLanes()) await runtime.removeLane(lane.name).catch(() => undefined);
        await runtime.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A raw HTTP call (status + parsed JSON body), so tests see exactly what the server answers. */
export async function http(
  url: string,
  method: 'GET' | 'POST',
  path: string,
  options: { token?: string | null; body?: unknown; rawBody?: string; contentType?: string } = {},
): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  const token = options.token === undefined ? TOKEN : options.token;
  const payload = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await request(`${url}${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(payload === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' }),
    },
    ...(payload === undefined ? {} : { body: payload }),
  });
  const text = await response.body.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // metrics, SSE: text
  }
  return { status: response.statusCode, body, headers: response.headers };
}

export interface SseFrame {
  event: string;
  data: any;
}

/** A real SSE client over undici: collects frames and comments until closed. */
export async function openEvents(url: string, token = TOKEN) {
  const controller = new AbortController();
  const response = await request(`${url}/events`, {
    method: 'GET',
    headers: { authorization: `Bearer ${token}` },
    signal: controller.signal,
  });
  const frames: SseFrame[] = [];
  const comments: string[] = [];
  let buffer = '';
  const waiters: Array<() => void> = [];
  const pump = (async () => {
    try {
      for await (const chunk of response.body) {
        buffer += chunk.toString();
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(':')) comments.push(block.slice(1).trim());
          else {
            const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
            const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
            frames.push({ event, data: JSON.parse(data) });
          }
          for (const wake of waiters.splice(0)) wake();
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    status: response.statusCode,
    headers: response.headers,
    frames,
    comments,
    /** Wait until `predicate` holds over the frames seen so far. */
    async until(predicate: (frames: SseFrame[]) => boolean, timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(frames)) {
        if (Date.now() > deadline) throw new Error(`SSE: condition not met in ${timeoutMs} ms; saw ${frames.map((f) => f.event).join(', ')}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    async close() {
      controller.abort();
      await pump;
    },
  };
}

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
