import type { Logger } from '../../../common/src/logger.js';
import type { HealthProbe } from './health-probe.js';
import { parseHealthSpec } from './health-spec.js';
import { HttpProbe } from './http-probe.js';
import { McpProbe } from './mcp-probe.js';
import type { Target } from './target.js';

export interface HealthCheckOptions {
  /** The proxy-wide default spec (`/readyz`, `http:/path`, `mcp`, `mcp:/path`); a lane may name its own. */
  spec: string;
  intervalMs: number;
  timeoutMs: number;
}

function probeFor(target: Target, timeoutMs: number): HealthProbe {
  const spec = parseHealthSpec(target.healthSpec, 'health');
  return spec.kind === 'mcp' ? new McpProbe(target.url, spec.path, timeoutMs) : new HttpProbe(target, spec.path, timeoutMs);
}

/**
 * Checks a target every interval with its probe (HTTP path or MCP exchange, per the target's
 * spec). One check in flight per target at a time; `probe()` runs one now (a switch to a lane not
 * yet checked waits for it).
 */
export class HealthCheck {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;
  private stopped = false;
  private readonly prober: HealthProbe;

  constructor(
    private readonly target: Target,
    private readonly options: Pick<HealthCheckOptions, 'intervalMs' | 'timeoutMs'>,
    private readonly logger: Logger,
    private readonly onChange: (target: Target) => void,
  ) {
    this.prober = probeFor(target, options.timeoutMs);
  }

  start(): void {
    void this.probe();
    this.timer = setInterval(() => void this.probe(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Stop checking and free what the probe holds on the lane (waits for a check in flight). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
    await this.prober.close();
  }

  probe(): Promise<boolean> {
    if (this.stopped) return Promise.resolve(this.target.healthy);
    this.running ??= this.check().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async check(): Promise<boolean> {
    const result = await this.prober.check();
    if (this.stopped) return result.healthy;
    const next = result.healthy ? 'healthy' : 'unhealthy';
    const changed = this.target.health !== next;
    this.target.health = next;
    this.target.healthReason = result.reason;
    this.target.lastCheckAt = Date.now();
    if (result.surface) this.target.surface = result.surface;
    if (changed) {
      this.logger.info({ lane: this.target.name, health: next, reason: result.reason }, 'lane health changed');
      this.onChange(this.target);
    }
    return result.healthy;
  }
}
