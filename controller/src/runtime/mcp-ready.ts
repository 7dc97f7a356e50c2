import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ReadyProbeResult } from './readiness.js';

/** Pure: `mcp` / `mcp:/path` → the MCP path to probe; an HTTP spec (`/readyz`, `http:/p`) → undefined. */
export function mcpHealthPath(health: string, mcpPath = '/mcp'): string | undefined {
  if (health === 'mcp') return mcpPath;
  if (health.startsWith('mcp:')) return health.slice('mcp:'.length);
  return undefined;
}

/** Pure: the HTTP path of an HTTP health spec. */
export function httpHealthPath(health: string): string {
  return health.startsWith('http:') ? health.slice('http:'.length) : health;
}

/**
 * MCP-native readiness for any MCP server: initialize, ping and tools/list with the official SDK
 * client on a fresh session, which is DELETEd after. A server that answers something else than
 * MCP (an HTML page) is "not an MCP server" in the detail, so the readiness error says why.
 */
export async function probeMcpReady(baseUrl: string, path: string, timeoutMs: number): Promise<ReadyProbeResult> {
  let last: { status: number; type: string } | undefined;
  const fetchAndNote = async (url: string | URL, init?: RequestInit): Promise<Response> => {
    if ((init?.method ?? 'GET') === 'GET') return new Response(null, { status: 405 });
    const timeout = AbortSignal.timeout(timeoutMs);
    const response = await fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
    if (init?.method === 'POST') last = { status: response.status, type: response.headers.get('content-type') ?? '(none)' };
    return response;
  };
  const transport = new StreamableHTTPClientTransport(new URL(path, baseUrl), { fetch: fetchAndNote });
  const client = new Client({ name: 'wvo-ready', version: '1.0.0' }, { capabilities: {} });
  client.onerror = () => undefined;
  try {
    await client.connect(transport, { timeout: timeoutMs });
    await client.ping({ timeout: timeoutMs });
    await client.listTools({}, { timeout: timeoutMs });
    return { ready: true, httpStatus: 200, detail: 'mcp: initialize, ping, tools/list answered' };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const notMcp = last && !/json|event-stream/.test(last.type);
    const detail = notMcp ? `not an MCP server: POST ${path} answered ${last!.status} ${last!.type}` : `mcp: ${message}`;
    return { ready: false, ...(last ? { httpStatus: last.status } : {}), detail: detail.slice(0, 300) };
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
  }
}
