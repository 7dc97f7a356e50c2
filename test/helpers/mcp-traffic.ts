import { connectMcp, type McpSession } from '../../common/src/mcp-client.js';
import { sleep } from './sleep.js';

export interface Traffic {
  sessions: McpSession[];
  sent: number;
  failed: number;
  failures: string[];
  /** Task ids whose `dispatch` was acknowledged (committed writes). */
  dispatched: string[];
  /** Stop the loops (sessions stay open). */
  stop(): Promise<void>;
  /** One more call on every session: how many answered. */
  probeAll(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Steady MCP load through the proxy from real SDK sessions (bounded by `maxMs`): reads on every
 * session, `dispatch` (a committed write) on the first `writers` sessions.
 */
export async function startTraffic(url: string, options: { sessions: number; writers?: number; intervalMs?: number; maxMs?: number }): Promise<Traffic> {
  const sessions = await Promise.all(Array.from({ length: options.sessions }, (_, i) => connectMcp(`${url}/mcp`, `deploy-load-${i}`)));
  const reads = [
    { tool: 'orchestrator_status', arguments: {} },
    { tool: 'plan_next', arguments: { limit: 3 } },
    { tool: 'autopilot_status', arguments: {} },
  ];
  const t: Omit<Traffic, 'stop' | 'probeAll' | 'close'> = { sessions, sent: 0, failed: 0, failures: [], dispatched: [] };
  let stopping = false;
  const deadline = Date.now() + (options.maxMs ?? 60_000);
  const loops = sessions.map(async (session, index) => {
    let turn = index;
    const writer = index < (options.writers ?? 0);
    while (!stopping && Date.now() < deadline) {
      const call = writer ? { tool: 'dispatch', arguments: { agent: `writer-${index}` } } : reads[turn++ % reads.length]!;
      t.sent++;
      try {
        const result = await session.call(call.tool, call.arguments);
        const code = (result.value as { code?: string } | null)?.code;
        if (result.isError && !(writer && (code === 'WVO_QUEUE_EMPTY' || code === 'WVO_TASK_NOT_READY'))) {
          t.failed++;
          if (t.failures.length < 20) t.failures.push(`${call.tool}: ${JSON.stringify(result.value).slice(0, 200)}`);
        } else if (writer && !result.isError) {
          t.dispatched.push((result.value as { task: { id: string } }).task.id);
        }
      } catch (error) {
        t.failed++;
        if (t.failures.length < 20) t.failures.push(`${call.tool}: ${(error as Error).message.slice(0, 200)}`);
      }
      await sleep(options.intervalMs ?? 20);
    }
  });
  return Object.assign(t, {
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
    async probeAll() {
      const answers = await Promise.all(
        sessions.map((s) => s.call('orchestrator_status').then((r) => !r.isError, () => false)),
      );
      return answers.filter(Boolean).length;
    },
    async close() {
      stopping = true;
      await Promise.all(loops);
      await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
    },
  });
}
