import { Agent, type Dispatcher } from 'undici';
import { callJson } from '../../../common/src/json-http.js';
import { ProxyError, proxyErrorFromJson } from './errors.js';
import type { CanaryView, LaneView, LastSwitch, SwitchResult, WeightResult } from './service.js';
import type { SessionView } from './session-table.js';

export interface AdminClientOptions {
  /** `http://127.0.0.1:8081` or `unix:/path/admin.sock` (what `startProxy` returns as adminUrl). */
  url: string;
  token: string;
  timeoutMs?: number;
}

export interface LaneWithSessions extends LaneView {
  sessions: number;
}

export interface LanesResponse {
  active: string | null;
  /** The weighted candidate, when a split is set. */
  canary: CanaryView | null;
  last_switch: LastSwitch | null;
  lanes: LaneWithSessions[];
}

export interface HealthResponse {
  ok: boolean;
  active: string | null;
  active_healthy: boolean;
  sessions: number;
  last_switch: LastSwitch | null;
  canary: CanaryView | null;
}

/** Typed client for the proxy admin API (the controller's way to switch lanes). Errors keep their codes. */
export class ProxyAdminClient {
  private readonly origin: string;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly timeoutMs: number;

  constructor(private readonly options: AdminClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    if (options.url.startsWith('unix:')) {
      this.origin = 'http://localhost';
      this.dispatcher = new Agent({ connect: { socketPath: options.url.slice('unix:'.length) } });
    } else {
      this.origin = options.url.replace(/\/+$/, '');
      this.dispatcher = undefined;
    }
  }

  lanes(): Promise<LanesResponse> {
    return this.call('GET', '/lanes');
  }

  health(): Promise<HealthResponse> {
    return this.call('GET', '/health');
  }

  /** Register (or re-register) a lane; `health` (`/readyz`, `mcp`, `mcp:/path`…) overrides the proxy's default check. */
  async registerLane(lane: { name: string; url: string; health?: string }): Promise<LaneView> {
    return (await this.call<{ lane: LaneView }>('POST', '/lanes', lane)).lane;
  }

  /** Make `lane` active. `rollback: true` moves the previous lane's sessions at once instead of draining. */
  switchTo(lane: string, options: { rollback?: boolean } = {}): Promise<SwitchResult & { ok: true }> {
    return this.call('POST', '/switch', { lane, ...(options.rollback ? { rollback: true } : {}) });
  }

  /** Send `weight` % (0–100) of new sessions and session-less calls to `candidate`; the active lane takes the rest. */
  setWeights(candidate: string, weight: number): Promise<WeightResult & { ok: true }> {
    return this.call('POST', '/weights', { candidate, weight });
  }

  /** End the split. `rollback: true` moves the candidate's sessions to the active lane at once instead of draining. */
  clearWeights(options: { rollback?: boolean } = {}): Promise<WeightResult & { ok: true }> {
    return this.call('POST', '/weights/clear', options.rollback ? { rollback: true } : {});
  }

  async drain(lane: string, options: { timeoutMs?: number } = {}): Promise<LaneView> {
    const body = { lane, ...(options.timeoutMs !== undefined ? { timeout_ms: options.timeoutMs } : {}) };
    return (await this.call<{ lane: LaneView }>('POST', '/drain', body)).lane;
  }

  sessions(): Promise<{ count: number; sessions: SessionView[] }> {
    return this.call('GET', '/sessions');
  }

  /** Prometheus text exposition. */
  metrics(): Promise<string> {
    return this.call('GET', '/metrics', undefined, true);
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }

  private call<T>(method: 'GET' | 'POST', path: string, body?: unknown, text = false): Promise<T> {
    return callJson<T>({
      method,
      url: `${this.origin}${path}`,
      body,
      token: this.options.token,
      ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
      timeoutMs: this.timeoutMs,
      text,
      unreachable: (error) =>
        new ProxyError('WVO_PROXY_ADMIN_UNREACHABLE', `proxy admin API at ${this.options.url}: ${(error as Error).message}`, {
          subject: this.options.url,
          hint: 'is `wvo proxy` running with this --admin address?',
          cause: error,
        }),
      failed: (status, json) => proxyErrorFromJson(status, json),
    });
  }
}
