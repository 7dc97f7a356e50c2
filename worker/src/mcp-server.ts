import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { CallLedgers } from './journal/call-ledgers.js';
import { REPLAY_META_KEY } from './journal/replay-meta.js';
import type { WorkerMetrics } from './metrics.js';
import { callTool, TOOL_NAMES, TOOLS } from './tools/registry.js';
import type { ToolContext } from './tools/tool.js';

/** Counts tool calls in progress so shutdown can wait for them. */
export class InFlight {
  private count = 0;
  private waiters: Array<() => void> = [];

  get size(): number {
    return this.count;
  }

  async track<T>(work: () => Promise<T>): Promise<T> {
    this.count += 1;
    try {
      return await work();
    } finally {
      this.count -= 1;
      if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
    }
  }

  /** Resolves when nothing is in flight (at once if already idle). */
  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/**
 * One McpServer per session, sharing the tool context. Tools are registered for tools/list (their
 * strict zod schemas become the JSON Schemas clients see); tools/call is our own handler because
 * McpServer answers unknown tools and invalid arguments with uncoded text, and every worker error
 * must carry a stable WVO_* code naming the field.
 */
export function createMcpServer(
  context: ToolContext,
  deps: { metrics: WorkerMetrics; inFlight: InFlight; version: string; ledgers?: CallLedgers },
): McpServer {
  const server = new McpServer({ name: 'wvo-worker', version: deps.version }, { capabilities: { tools: {} } });
  for (const tool of TOOLS) {
    server.registerTool(
      tool.name,
      { title: tool.title, description: tool.description, inputSchema: tool.input as unknown as z.ZodObject },
      async (): Promise<CallToolResult> => ({ content: [] }),
    );
  }
  server.server.setRequestHandler(CallToolRequestSchema, async (request) =>
    deps.inFlight.track(async () => {
      const started = process.hrtime.bigint();
      const replay = request.params._meta?.[REPLAY_META_KEY];
      const { result, outcome } = await callTool(context, request.params.name, request.params.arguments, {
        ...(replay === undefined ? {} : { replay }),
        ...(deps.ledgers ? { ledgers: deps.ledgers } : {}),
      });
      const label = TOOL_NAMES.includes(request.params.name) ? request.params.name : 'unknown';
      deps.metrics.observeCall(label, outcome, Number(process.hrtime.bigint() - started) / 1e9);
      return result;
    }),
  );
  return server;
}
