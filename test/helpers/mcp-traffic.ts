import { connectMcp, type McpSession } from '../../common/src/mcp-client.js';
import { writerCycle } from '../../common/src/writer-agent.js';
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
 * session; the first `writers` sessions are writer agents (dispatch → verify → report, the
 * demo's and the bench's writers), whose acknowledged dispatches are committed writes. With
 * `renewEvery`, each session is closed and opened again after that many turns (agents come and
 * go): only new sessions follow a weighted split, so a canary step needs this churn to get traffic.
 */
export async function startTraffic(
  url: string,
  options: { sessions: number; writers?: number; intervalMs?: number; maxMs?: number; renewEvery?: number },
): Promise<Traffic> {
  const sessions = await Promise.all(Array.from({ length: options.sessions }, (_, i) => connectMcp(`${url}/mcp`, `deploy-load-${i}`)));
  const reads = [
    { tool: 'orchestrator_status', arguments: {} },
    { tool: 'plan_next', arguments: { limit: 3 } },
    { tool: 'autopilot_status', arguments: {} },
  ];
  const t: Omit<Traffic, 'stop' | 'probeAll' | 'close'> = { sessions, sent: 0, failed: 0, failures: [], dispatched: [] };
  let stopping = false;
  const deadline = Date.now() + (options.maxMs ?? 60_000);
  const loops = sessions.map(async (first, index) => {
    let session = first;
    let turn = index;
    let turns = 0;
    const writer = index < (options.writers ?? 0);
    while (!stopping && Date.now() < deadline) {
      if (options.renewEvery && ++turns >= options.renewEvery) {
        turns = 0;
        t.sent++;
        try {
          await session.close();
          session = await connectMcp(`${url}/mcp`, `deploy-load-${index}`);
          sessions[index] = session;
        } catch (error) {
          t.failed++;
          if (t.failures.length < 20) t.failures.push(`renew session: ${(error as Error).message.slice(0, 200)}`);
        }
      }
      if (writer) {
        const cycle = await writerCycle(session, `writer-${index}`, turn++);
        // Renewal counts calls: a writer's session re-rolls its lane as often as a reader's.
        turns += cycle.calls - 1;
        t.sent += cycle.calls;
        t.failed += cycle.failures.length;
        for (const f of cycle.failures) if (t.failures.length < 20) t.failures.push(f);
        if (cycle.dispatched) t.dispatched.push(cycle.dispatched);
        await sleep(options.intervalMs ?? 20);
        continue;
      }
      const call = reads[turn++ % reads.length]!;
      t.sent++;
      try {
        const result = await session.call(call.tool, call.arguments);
        if (result.isError) {
          t.failed++;
          if (t.failures.length < 20) t.failures.push(`${call.tool}: ${JSON.stringify(result.value).slice(0, 200)}`);
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
