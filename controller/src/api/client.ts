import { WvoError } from '../../../common/src/errors.js';
import { callJson } from '../../../common/src/json-http.js';
import type { UpgradeOptionsInput } from '../harness/index.js';
import type { PromotionOptionsInput } from '../promotion/index.js';
import type { LaneInfo, RuntimeKind } from '../runtime/index.js';
import type { ControllerStatus, DeploymentView, TransitionView, UpgradeView } from '../operations/index.js';
import { apiErrors } from './errors.js';

export interface ControllerClientOptions {
  /** `http://127.0.0.1:7070` */
  url: string;
  token?: string;
  timeoutMs?: number;
}

/** A non-2xx answer: the server's coded error, with the HTTP status. */
export class ControllerApiError extends WvoError {
  constructor(
    status: number,
    error: { code?: unknown; message?: unknown; subject?: unknown; hint?: unknown; details?: unknown },
  ) {
    super(typeof error.code === 'string' ? error.code : 'WVO_INTERNAL', typeof error.message === 'string' ? error.message : `HTTP ${status}`, {
      ...(typeof error.subject === 'string' ? { subject: error.subject } : {}),
      ...(typeof error.hint === 'string' ? { hint: error.hint } : {}),
      ...(error.details && typeof error.details === 'object' ? { details: error.details as Record<string, unknown> } : {}),
      status,
    });
    this.name = 'ControllerApiError';
  }
}

/** Typed client for `wvo serve` (tests, and commands that talk to a remote controller). Errors keep their codes. */
export class ControllerClient {
  private readonly origin: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: ControllerClientOptions) {
    this.origin = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  healthz(): Promise<{ ok: boolean }> {
    return this.call('GET', '/healthz');
  }

  status(): Promise<ControllerStatus & { ok: true }> {
    return this.call('GET', '/status');
  }

  lanes(): Promise<{ ok: true; runtime: RuntimeKind; lanes: LaneInfo[] }> {
    return this.call('GET', '/lanes');
  }

  startUpgrade(options: UpgradeOptionsInput = {}): Promise<{ ok: true; id: string; started_at: string }> {
    return this.call('POST', '/upgrades', options);
  }

  async upgrade(id: string): Promise<UpgradeView> {
    return (await this.call<{ upgrade: UpgradeView }>('GET', `/upgrades/${encodeURIComponent(id)}`)).upgrade;
  }

  deployments(): Promise<{ ok: true; running: string | null; deployments: DeploymentView[] }> {
    return this.call('GET', '/deployments');
  }

  deployment(id: string): Promise<{ ok: true; deployment: DeploymentView; transitions: TransitionView[] }> {
    return this.call('GET', `/deployments/${encodeURIComponent(id)}`);
  }

  /** `upgradeId` = the staged upgrade (`latest` for the newest). */
  promote(upgradeId: string, options: Omit<PromotionOptionsInput, 'upgradeId'> = {}): Promise<{ ok: true; deployment: DeploymentView }> {
    return this.call('POST', `/deployments/${encodeURIComponent(upgradeId)}/promote`, options);
  }

  rollback(id: string, reason?: string): Promise<{ ok: true; deployment: DeploymentView }> {
    return this.call('POST', `/deployments/${encodeURIComponent(id)}/rollback`, reason === undefined ? {} : { reason });
  }

  /** Prometheus text exposition. */
  metrics(): Promise<string> {
    return this.call('GET', '/metrics', undefined, true);
  }

  private call<T>(method: 'GET' | 'POST', path: string, body?: unknown, text = false): Promise<T> {
    return callJson<T>({
      method,
      url: `${this.origin}${path}`,
      body,
      ...(this.options.token ? { token: this.options.token } : {}),
      timeoutMs: this.timeoutMs,
      text,
      unreachable: (error) =>
        apiErrors.create('WVO_CONTROLLER_UNREACHABLE', `controller API at ${this.options.url}: ${(error as Error).message}`, {
          subject: this.options.url,
          hint: 'is `wvo serve` running and listening on this address?',
          cause: error,
        }),
      failed: (status, json, raw) =>
        new ControllerApiError(status, (json as { error?: Record<string, unknown> } | undefined)?.error ?? { message: raw.slice(0, 200) }),
    });
  }
}
