import { Pool } from 'undici';
import type { SurfaceDigest } from './surface-digest.js';

export const HEALTH_STATES = ['unknown', 'healthy', 'unhealthy'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

export interface TargetOptions {
  connections: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

/**
 * One upstream endpoint (a lane's worker) and its health. Two keep-alive pools: `pool` (bounded)
 * for request/response traffic, `streams` (unbounded) for GET streams, which live as long as a
 * session and would otherwise hold the bounded pool's connections until every request queues.
 */
/**
 * How long an idle upstream connection is kept. Below Node's default server keep-alive (5 s, minus
 * undici's ~1 s timer resolution): the worker's MCP responses set `Connection: keep-alive` by hand,
 * so Node sends no `Keep-Alive: timeout` hint, and a longer client timeout let the upstream close an
 * idle socket just as the proxy reused it (ECONNRESET under load). Reconnecting is cheap.
 */
const UPSTREAM_IDLE_MS = 3_000;

export class Target {
  readonly pool: Pool;
  readonly streams: Pool;
  readonly host: string;
  health: HealthState = 'unknown';
  healthReason: string | undefined;
  lastCheckAt: number | undefined;
  /** What the lane advertises, as its last MCP health check saw it (unknown for HTTP checks). */
  surface: SurfaceDigest | undefined;
  /** Requests and streams currently forwarded to this target. */
  inflight = 0;

  constructor(
    readonly name: string,
    readonly url: string,
    options: TargetOptions,
    /** How it is checked (canonical health spec text). */
    public healthSpec: string,
    /** The spec the lane was registered with, when it named one (persisted; else the proxy default applies). */
    public ownHealth: string | undefined = undefined,
  ) {
    this.host = new URL(url).host;
    this.pool = new Pool(url, {
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: UPSTREAM_IDLE_MS,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
    });
    this.streams = new Pool(url, { pipelining: 1, keepAliveTimeout: UPSTREAM_IDLE_MS, headersTimeout: options.headersTimeoutMs, bodyTimeout: 0 });
  }

  /** The dispatcher for a request: GET streams get their own connections. */
  dispatcherFor(method: string): Pool {
    return method === 'GET' ? this.streams : this.pool;
  }

  get healthy(): boolean {
    return this.health === 'healthy';
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.destroy().catch(() => undefined), this.streams.destroy().catch(() => undefined)]);
  }
}
