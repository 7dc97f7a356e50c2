import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectMcp, type McpSession } from '../../common/src/mcp-client.js';
import { silentLogger } from '../../common/src/logger.js';
import { ProxyAdminClient, startProxy } from '../../controller/src/proxy/index.js';
import { seedState, startWorker } from '../../worker/src/index.js';
import { sleep, TOKEN, waitUntil } from '../helpers/proxy-harness.js';

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  cleanup = [];
});

describe('proxy: load through the real worker', () => {
  it('50 sessions keep answering through a switch and a switch back (0 failed)', async () => {
    const lanes: Record<string, string> = {};
    for (const lane of ['blue', 'green']) {
      const stateRoot = await mkdtemp(join(tmpdir(), `wvo-proxy-worker-${lane}-`));
      cleanup.push(() => rm(stateRoot, { recursive: true, force: true }));
      seedState({ stateRoot, tasks: 50, seed: 42 });
      const worker = await startWorker({ stateRoot, port: 0, logger: silentLogger() });
      cleanup.push(() => worker.close());
      lanes[lane] = worker.url;
    }
    const proxy = await startProxy({
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      token: TOKEN,
      lanes: Object.entries(lanes).map(([name, url]) => ({ name, url })),
      active: 'blue',
      healthIntervalMs: 100,
      drainTimeoutMs: 500,
    });
    cleanup.push(() => proxy.close());
    const admin = new ProxyAdminClient({ url: proxy.adminUrl, token: TOKEN });
    cleanup.push(() => admin.close());
    await waitUntil(async () => (await admin.lanes()).lanes.every((l) => l.healthy));

    const sessions: McpSession[] = await Promise.all(Array.from({ length: 50 }, () => connectMcp(`${proxy.url}/mcp`, 'proxy-worker-test')));
    cleanup.push(() => Promise.all(sessions.map((s) => s.client.close())));
    // Answered calls per phase: the load must cross both switches (how many is the machine's business).
    const ok = { before: 0, green: 0, back: 0 };
    let phase: keyof typeof ok = 'before';
    const failures: string[] = [];
    let stop = false;
    const load = Promise.all(
      sessions.map(async (session) => {
        while (!stop) {
          try {
            const result = await session.call('orchestrator_status');
            if (result.isError) throw new Error(JSON.stringify(result.value).slice(0, 300));
            ok[phase] += 1;
          } catch (error) {
            failures.push(String(error).slice(0, 300));
          }
          await sleep(5);
        }
      }),
    );
    await sleep(400);
    await admin.switchTo('green');
    phase = 'green';
    await sleep(800); // past blue's deadline: its sessions move to green
    await admin.switchTo('blue');
    phase = 'back';
    await sleep(800);
    stop = true;
    await load;

    expect(failures.slice(0, 5)).toEqual([]);
    expect(ok.before * ok.green * ok.back, JSON.stringify(ok)).toBeGreaterThan(0);
    for (const session of sessions) expect((await session.call('orchestrator_status')).isError).toBe(false);
    const view = await admin.sessions();
    expect(view.sessions.every((s) => s.lane === 'blue')).toBe(true);
    // sessions move lazily: one idle across blue's whole retirement simply stayed on its blue session
    expect(view.sessions.every((s) => s.moved === 0 || s.moved === 2)).toBe(true);
    expect(view.sessions.some((s) => s.moved === 2)).toBe(true);
  });
});
