import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** One tool call's outcome: the text content parsed as JSON when it is JSON. */
export interface ToolCallResult {
  isError: boolean;
  /** Parsed JSON of the first text content, or the raw text when it is not JSON. */
  value: unknown;
  durationMs: number;
}

export interface McpSession {
  readonly client: Client;
  readonly sessionId: string | undefined;
  call(tool: string, args?: Record<string, unknown>): Promise<ToolCallResult>;
  close(): Promise<void>;
}

/**
 * Parse a `tools/call` result into a comparable JSON value. Works for any server: structured
 * content wins, JSON text is parsed, other text stays a string, images and resources stay as sent.
 */
export function parseToolResult(result: { content?: unknown; structuredContent?: unknown }): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const content = Array.isArray(result.content) ? result.content : [];
  const items = content.map((item: unknown) => {
    const block = item as { type?: unknown; text?: unknown };
    if (block.type !== 'text' || typeof block.text !== 'string') return item;
    try {
      return JSON.parse(block.text) as unknown;
    } catch {
      return block.text;
    }
  });
  if (items.length === 0) return null;
  return items.length === 1 ? items[0] : items;
}

/**
 * Open an MCP session with the official SDK client over Streamable HTTP: at `url` when it already
 * ends with /mcp, else at `mcpPath` on that origin (an app may serve MCP elsewhere, e.g. /rpc).
 */
export async function connectMcp(url: string, clientName = 'wvo', mcpPath = '/mcp'): Promise<McpSession> {
  const endpoint = new URL(url.endsWith('/mcp') ? url : `${url.replace(/\/$/, '')}${mcpPath}`);
  const transport = new StreamableHTTPClientTransport(endpoint);
  const client = new Client({ name: clientName, version: '0.1.0' });
  await client.connect(transport);
  return {
    client,
    get sessionId() {
      return transport.sessionId;
    },
    async call(tool, args = {}) {
      const started = performance.now();
      const result = await client.callTool({ name: tool, arguments: args });
      return { isError: result.isError === true, value: parseToolResult(result as { content?: unknown; structuredContent?: unknown }), durationMs: performance.now() - started };
    },
    async close() {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  };
}
