import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Clock } from '../../common/src/clock.js';

export interface Session {
  readonly id: string;
  readonly server: McpServer;
  readonly transport: StreamableHTTPServerTransport;
  lastSeen: number;
}

/**
 * Live MCP sessions by Mcp-Session-Id. SSE responses (not enableJsonResponse): with JSON responses
 * SDK 1.32.2 keeps one map entry per POST (typescript-sdk #2559); the SSE path cleans up per request.
 */
export class SessionTable {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly clock: Clock,
    private readonly onChange: (size: number) => void = () => undefined,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  get(id: string): Session | undefined {
    const session = this.sessions.get(id);
    if (session) session.lastSeen = this.clock.now();
    return session;
  }

  /**
   * A transport + server pair for an initialize request. The session joins the table only when the
   * transport assigns its id; `dispose` must be called if it never does (failed initialize).
   */
  async open(createServer: () => McpServer): Promise<{ transport: StreamableHTTPServerTransport; dispose: () => Promise<void> }> {
    const server = createServer();
    let registered: Session | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        registered = { id, server, transport, lastSeen: this.clock.now() };
        this.sessions.set(id, registered);
        this.onChange(this.sessions.size);
      },
    });
    transport.onclose = () => {
      if (registered && this.sessions.get(registered.id) === registered) {
        this.sessions.delete(registered.id);
        this.onChange(this.sessions.size);
      }
    };
    await server.connect(transport);
    return {
      transport,
      dispose: async () => {
        if (!registered) await server.close();
      },
    };
  }

  /** Closes sessions idle longer than `idleMs` (clients that vanished without DELETE). */
  async sweep(idleMs: number): Promise<number> {
    const cutoff = this.clock.now() - idleMs;
    const stale = [...this.sessions.values()].filter((session) => session.lastSeen < cutoff);
    await Promise.all(stale.map((session) => session.server.close()));
    return stale.length;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((session) => session.server.close()));
    this.sessions.clear();
    this.onChange(0);
  }
}
