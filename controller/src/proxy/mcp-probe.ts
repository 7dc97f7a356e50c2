import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { advertisedLists, listAll, type SurfaceLists } from '../../../common/src/mcp-surface.js';
import type { HealthProbe, ProbeResult } from './health-probe.js';
import { digestSurface } from './surface-digest.js';

interface ProbeSession {
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
}

/** What the lane last answered to a POST: for a reason that says "this is not MCP". */
interface LastAnswer {
  status: number;
  contentType: string;
}

/**
 * MCP-native health for any MCP server: an official SDK client initializes a session at `path`,
 * then every check sends `ping` and lists what the server advertises (`tools/list`, and
 * `prompts/list`, `resources/list`, `resources/templates/list` when it declares them), in
 * parallel. Healthy = all answered. The lists' digests are the lane's surface.
 *
 * One session is kept and reused (not one per check): a check is then 2 requests in parallel
 * instead of 5 in sequence (initialize, initialized, ping, tools/list, DELETE), and a lane that
 * builds state per session is not made to build and tear it down every second. When the kept
 * session fails (the lane restarted and lost it), the same check opens a fresh one before
 * judging, so a restart is not reported as an outage. `close()` DELETEs it: nothing is left on
 * the lane. The probe opens no GET stream (it answers the SDK's GET itself with 405): it needs no
 * server-to-client messages, and the lane keeps no stream open for it.
 */
export class McpProbe implements HealthProbe {
  private session: ProbeSession | undefined;
  private last: LastAnswer | undefined;
  private step = 'initialize';

  constructor(
    private readonly origin: string,
    private readonly path: string,
    private readonly timeoutMs: number,
  ) {}

  async check(): Promise<ProbeResult> {
    this.last = undefined;
    if (this.session) {
      try {
        return await this.exchange(this.session);
      } catch {
        await this.drop();
      }
    }
    try {
      this.step = 'initialize';
      this.session = await this.open();
      return await this.exchange(this.session);
    } catch (error) {
      const reason = this.describe(error);
      await this.drop();
      return { healthy: false, reason };
    }
  }

  async close(): Promise<void> {
    await this.drop();
  }

  private async open(): Promise<ProbeSession> {
    const fetchAndNote = async (url: string | URL, init?: RequestInit): Promise<Response> => {
      if ((init?.method ?? 'GET') === 'GET') return new Response(null, { status: 405 });
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const response = await fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
      if (init?.method === 'POST') this.last = { status: response.status, contentType: response.headers.get('content-type') ?? '(none)' };
      return response;
    };
    const transport = new StreamableHTTPClientTransport(new URL(this.path, this.origin), {
      fetch: fetchAndNote,
      reconnectionOptions: { initialReconnectionDelay: 1_000, maxReconnectionDelay: 1_000, reconnectionDelayGrowFactor: 1, maxRetries: 0 },
    });
    const client = new Client({ name: 'wvo-proxy-health', version: '1.0.0' }, { capabilities: {} });
    client.onerror = () => undefined; // failures surface through the check's own requests
    try {
      await client.connect(transport, { timeout: this.timeoutMs });
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
    return { client, transport };
  }

  private async exchange(session: ProbeSession): Promise<ProbeResult> {
    const options = { timeout: this.timeoutMs };
    const lists: SurfaceLists = { tools: [], prompts: [], resources: [], resourceTemplates: [] };
    this.step = 'ping, tools/list';
    await Promise.all([
      session.client.ping(options),
      ...advertisedLists(session.client).map(async (list) => {
        lists[list] = await listAll(session.client, list, options);
      }),
    ]);
    return { healthy: true, surface: digestSurface(lists) };
  }

  private async drop(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    if (session.transport.sessionId) await session.transport.terminateSession().catch(() => undefined);
    await session.client.close().catch(() => undefined);
  }

  private describe(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    const last = this.last;
    const json = last?.contentType.startsWith('application/json') || last?.contentType.startsWith('text/event-stream');
    if (last && last.status < 400 && !json) {
      return `not an MCP server: POST ${this.path} answered ${last.status} ${last.contentType} (expected application/json or text/event-stream)`;
    }
    if (last && last.status >= 400 && this.step === 'initialize') return `MCP initialize at ${this.path} answered status ${last.status}`;
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return `MCP ${this.step} at ${this.path} failed: ${cause ?? message.replace(/^Streamable HTTP error: /, '')}`;
  }
}
