import type { McpSession } from './mcp-client.js';

/**
 * Refusals a writer meets in normal operation under concurrency: the queue has nothing ready, or
 * another agent moved the task first. They are answers, not failures (and they are rare with
 * `retry` reports keeping the queue stocked).
 */
export const EXPECTED_REFUSALS: ReadonlySet<string> = new Set(['WVO_QUEUE_EMPTY', 'WVO_TASK_NOT_READY', 'WVO_TASK_STATE', 'WVO_TASK_NOT_VERIFIED']);

export interface WriterCycle {
  /** Tool calls made (1 to 3). */
  readonly calls: number;
  /** Calls that failed (thrown, or an error answer that is not an expected refusal), with why. */
  readonly failures: readonly string[];
  /** The task whose dispatch was acknowledged (a committed write), if any. */
  readonly dispatched?: string;
}

/**
 * One turn of a writer agent, as real agents use the orchestrator: claim the next ready task
 * (`dispatch`, which runs its command), `verify` it (checks run, critics score, reputations
 * change), then `report` — `done` on every `doneEvery`-th verified task, else `retry`, which puts
 * the task back in the queue so the workload stays stationary for as long as the load runs.
 */
export async function writerCycle(session: McpSession, agent: string, turn: number, doneEvery = 10): Promise<WriterCycle> {
  const failures: string[] = [];
  let calls = 0;
  const call = async (tool: string, args: Record<string, unknown>): Promise<{ ok: boolean; value: unknown }> => {
    calls++;
    try {
      const result = await session.call(tool, args);
      const code = (result.value as { code?: unknown } | null)?.code;
      if (result.isError && !(typeof code === 'string' && EXPECTED_REFUSALS.has(code))) failures.push(`${tool}: ${JSON.stringify(result.value).slice(0, 200)}`);
      return { ok: !result.isError, value: result.value };
    } catch (error) {
      failures.push(`${tool}: ${(error as Error).message.slice(0, 200)}`);
      return { ok: false, value: undefined };
    }
  };
  const claimed = await call('dispatch', { agent });
  const task = claimed.ok ? (claimed.value as { task?: { id?: string } }).task?.id : undefined;
  if (!task) return { calls, failures };
  const verified = await call('verify', { task_id: task });
  const passed = verified.ok && (verified.value as { passed?: unknown }).passed === true;
  await call('report', { task_id: task, agent, outcome: passed && turn % doneEvery === 0 ? 'done' : 'retry', notes: `cycle ${turn}` });
  return { calls, failures, dispatched: task };
}
