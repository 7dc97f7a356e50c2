import type { Logger } from '../../../common/src/logger.js';
import type { Target } from './target.js';

export interface HealthCheckOptions {
  path: string;
  intervalMs: number;
  timeoutMs: number;
}

/**
 * GET `path` (default /readyz) on a target every interval; 2xx = healthy. One check in flight per
 * target at a time; `probe()` runs one now (a switch to a lane not yet checked waits for it).
 */
export class HealthCheck {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;
  private stopped = false;

  constructor(
    private readonly target: Target,
    private readonly options: HealthCheckOptions,
    private readonly logger: Logger,
    private readonly onChange: (target: Target) => void,
  ) {}

  start(): void {
    void this.probe();
    this.timer = setInterval(() => void this.probe(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  probe(): Promise<boolean> {
    this.running ??= this.check().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async check(): Promise<boolean> {
    let healthy = false;
    let reason: string | undefined;
    try {
      const response = await this.target.pool.request({
        path: this.options.path,
        method: 'GET',
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await response.body.dump();
      healthy = response.statusCode >= 200 && response.statusCode < 300;
      if (!healthy) reason = `status ${response.statusCode}`;
    } catch (error) {
      reason = (error as Error).message;
    }
    if (this.stopped) return healthy;
    const next = healthy ? 'healthy' : 'unhealthy';
    const changed = this.target.health !== next;
    this.target.health = next;
    this.target.healthReason = reason;
    this.target.lastCheckAt = Date.now();
    if (changed) {
      this.logger.info({ lane: this.target.name, health: next, reason }, 'lane health changed');
      this.onChange(this.target);
    }
    return healthy;
  }
}
