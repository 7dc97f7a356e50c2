import { connectMcp, type McpSession } from './mcp-client.js';
import { writerCycle } from './writer-agent.js';

export interface LoadOptions {
  /** Proxy or worker base URL. */
  url: string;
  sessions: number;
  /** Pause between one session's calls. */
  intervalMs: number;
  /** Hard bound: the load stops by itself after this long even if nobody stops it. */
  maxDurationMs: number;
  /** Tools called in turn by every reader session (read-only by default). */
  calls?: Array<{ tool: string; arguments: Record<string, unknown> }>;
  /** The first `writers` sessions are writer agents (dispatch → verify → report), the rest readers. */
  writers?: number;
  /**
   * Close and reopen each session after this many turns (agents come and go). Only new sessions
   * follow a weighted canary split, so canary steps need this churn to see traffic.
   */
  renewEvery?: number;
}

export interface LoadReport {
  sessions: number;
  /** Of those, writer agents. */
  writers: number;
  /** Tasks writers claimed (acknowledged dispatches: committed writes). */
  dispatched: number;
  sent: number;
  failed: number;
  /** Sessions opened at the start that still answered their last call. */
  sessionsAlive: number;
  failures: string[];
  durationMs: number;
}

export interface RunningLoad {
  /** Stop sending, close every session, report. */
  stop(): Promise<LoadReport>;
  /** Counters so far. */
  snapshot(): { sent: number; failed: number };
}

const DEFAULT_CALLS = [
  { tool: 'orchestrator_status', arguments: {} },
  { tool: 'plan_next', arguments: { limit: 3 } },
  { tool: 'autopilot_status', arguments: {} },
];

/**
 * Steady MCP load from many real SDK sessions (loopback only, bounded in time): each session
 * loops over `calls` with a pause, counting every request and every failure (a thrown call or
 * an isError answer).
 */
export async function startLoad(options: LoadOptions): Promise<RunningLoad> {
  const calls = options.calls ?? DEFAULT_CALLS;
  const started = Date.now();
  const sessions: McpSession[] = await Promise.all(
    Array.from({ length: options.sessions }, (_, i) => connectMcp(options.url, `wvo-load-${i}`)),
  );
  let sent = 0;
  let failed = 0;
  let dispatched = 0;
  const writers = Math.min(options.writers ?? 0, sessions.length);
  const failures: string[] = [];
  const lastOk = new Array<boolean>(sessions.length).fill(true);
  let stopping = false;
  const deadline = started + options.maxDurationMs;

  const loops = sessions.map(async (first, index) => {
    let session = first;
    let turn = index;
    let turns = 0;
    while (!stopping && Date.now() < deadline) {
      if (options.renewEvery && ++turns >= options.renewEvery) {
        turns = 0;
        sent++;
        try {
          await session.close();
          session = await connectMcp(options.url, `wvo-load-${index}`);
          sessions[index] = session;
        } catch (error) {
          failed++;
          lastOk[index] = false;
          if (failures.length < 20) failures.push(`renew session: ${(error as Error).message}`);
        }
      }
      if (index < writers) {
        const cycle = await writerCycle(session, `writer-${index}`, turn++);
        // Renewal counts calls: a writer's session re-rolls its lane as often as a reader's.
        turns += cycle.calls - 1;
        sent += cycle.calls;
        failed += cycle.failures.length;
        if (cycle.dispatched) dispatched++;
        lastOk[index] = cycle.failures.length === 0;
        for (const f of cycle.failures) if (failures.length < 20) failures.push(f);
        await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
        continue;
      }
      const call = calls[turn++ % calls.length]!;
      sent++;
      try {
        const result = await session.call(call.tool, call.arguments);
        lastOk[index] = !result.isError;
        if (result.isError) {
          failed++;
          if (failures.length < 20) failures.push(`${call.tool}: ${JSON.stringify(result.value).slice(0, 200)}`);
        }
      } catch (error) {
        failed++;
        lastOk[index] = false;
        if (failures.length < 20) failures.push(`${call.tool}: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    }
  });

  return {
    snapshot: () => ({ sent, failed }),
    async stop() {
      stopping = true;
      await Promise.all(loops);
      await Promise.all(sessions.map((session) => session.close().catch(() => undefined)));
      return {
        sessions: sessions.length,
        writers,
        dispatched,
        sent,
        failed,
        sessionsAlive: lastOk.filter(Boolean).length,
        failures,
        durationMs: Date.now() - started,
      };
    },
  };
}
