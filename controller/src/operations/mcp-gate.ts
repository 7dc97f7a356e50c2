import { connectMcp, type McpSession } from '../../../common/src/mcp-client.js';

export type McpGateResult = { readonly ok: true; readonly tools: number } | { readonly ok: false; readonly detail: string };

/**
 * Does the lane speak MCP? `initialize` (the SDK client's connect), `ping` and `tools/list`, each
 * answered within `timeoutMs` in all, at the lane's MCP path. Asked of a lane before it takes traffic: /readyz says the
 * process and its database are up, this says clients will get answers.
 */
export async function checkMcp(laneUrl: string, timeoutMs = 5_000, mcpPath = '/mcp'): Promise<McpGateResult> {
  let session: McpSession | undefined;
  let step = 'initialize';
  const attempt = (async (): Promise<McpGateResult> => {
    session = await connectMcp(laneUrl, 'wvo-switch-gate', mcpPath);
    step = 'ping';
    await session.client.ping();
    step = 'tools/list';
    const { tools } = await session.client.listTools();
    if (tools.length === 0) return { ok: false, detail: 'tools/list answered no tools' };
    return { ok: true, tools: tools.length };
  })().catch((error: unknown): McpGateResult => ({ ok: false, detail: `${step}: ${error instanceof Error ? error.message : String(error)}` }));
  const result = await withTimeout(attempt, timeoutMs, (): McpGateResult => ({ ok: false, detail: `${step}: no answer in ${timeoutMs} ms` }));
  // Closed in the background when it is late: the gate's answer does not wait for a hung lane.
  void attempt.finally(() => session?.close().catch(() => undefined));
  return result;
}

/** `work`, or `late()` when it has not settled within `ms`. */
export async function withTimeout<T>(work: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(late()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
