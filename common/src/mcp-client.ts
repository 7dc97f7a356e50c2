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

/** Decode a CallToolResult's content the way WVO's worker writes it (JSON text). */
export function decodeToolResult(result: { content?: unknown; isError?: unknown; structuredContent?: unknown }): {
  isError: boolean;
  value: unknown;
} {
  const isError = result.isError === true;
  if (result.structuredContent !== undefined) return { isError, value: result.structuredContent };
  const content = Array.isArray(result.content) ? (result.content as Array<{ type?: string; text?: string }>) : [];
  const text = content.find((part) => part.type === 'text')?.text;
  if (text === undefined) return { isError, value: content };
  try {
    return { isError, value: JSON.parse(text) };
  } catch {
    return { isError, value: text };
  }
}

/** Open an MCP session with the official SDK client over Streamable HTTP. */
export async function connectMcp(url: string, clientName = 'wvo'): Promise<McpSession> {
  const endpoint = new URL(url.endsWith('/mcp') ? url : `${url.replace(/\/$/, '')}/mcp`);
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
      return { ...decodeToolResult(result as Parameters<typeof decodeToolResult>[0]), durationMs: performance.now() - started };
    },
    async close() {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  };
}
