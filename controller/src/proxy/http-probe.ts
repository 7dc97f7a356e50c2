import type { HealthProbe, ProbeResult } from './health-probe.js';
import type { Target } from './target.js';

/** GET `path` on the lane; 2xx = healthy (our worker's `/readyz`). */
export class HttpProbe implements HealthProbe {
  constructor(
    private readonly target: Target,
    private readonly path: string,
    private readonly timeoutMs: number,
  ) {}

  async check(): Promise<ProbeResult> {
    try {
      const response = await this.target.pool.request({
        path: this.path,
        method: 'GET',
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.body.dump();
      const healthy = response.statusCode >= 200 && response.statusCode < 300;
      return healthy ? { healthy } : { healthy, reason: `GET ${this.path} answered status ${response.statusCode}` };
    } catch (error) {
      return { healthy: false, reason: (error as Error).message };
    }
  }

  async close(): Promise<void> {}
}
