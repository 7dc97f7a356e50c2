import { Pool } from 'undici';

export const HEALTH_STATES = ['unknown', 'healthy', 'unhealthy'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

export interface TargetOptions {
  connections: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

/** One upstream endpoint (a lane's worker): a keep-alive undici pool and its health. */
export class Target {
  readonly pool: Pool;
  readonly host: string;
  health: HealthState = 'unknown';
  healthReason: string | undefined;
  lastCheckAt: number | undefined;
  /** Requests and streams currently forwarded to this target. */
  inflight = 0;

  constructor(
    readonly name: string,
    readonly url: string,
    options: TargetOptions,
  ) {
    this.host = new URL(url).host;
    this.pool = new Pool(url, {
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
    });
  }

  get healthy(): boolean {
    return this.health === 'healthy';
  }

  async close(): Promise<void> {
    await this.pool.destroy().catch(() => undefined);
  }
}
