import { request } from 'undici';
import { operationsErrors } from './errors.js';

/** What a worker answers to `PUT /admin/flags/:name` (worker/src/admin-flags.ts). */
export interface FlagWriteResult {
  flag: string;
  /** The value stored (the worker maps `on`/`off` to its own spelling). */
  value: string;
  previous: string | null;
  changed: boolean;
}

/**
 * Set one feature flag through a worker's admin endpoint (bearer `WVO_ADMIN_TOKEN`). Every lane
 * on the live database reads the settings table at each tool call, so one write reaches them all.
 * Failures are coded (`WVO_DEPLOY_FLAG_FAILED`, the worker's own code in `details`).
 */
export async function putWorkerFlag(
  laneUrl: string,
  flag: string,
  value: string,
  options: { token: string; timeoutMs?: number },
): Promise<FlagWriteResult> {
  const url = `${laneUrl.replace(/\/+$/, '')}/admin/flags/${encodeURIComponent(flag)}`;
  let status: number;
  let text: string;
  try {
    const response = await request(url, {
      method: 'PUT',
      headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value }),
      headersTimeout: options.timeoutMs ?? 5_000,
      bodyTimeout: options.timeoutMs ?? 5_000,
    });
    status = response.statusCode;
    text = await response.body.text();
  } catch (error) {
    throw operationsErrors.create('WVO_DEPLOY_FLAG_FAILED', `set ${flag}=${value} at ${laneUrl}: ${(error as Error).message}`, {
      subject: flag,
      hint: 'is the lane running? `wvo lanes`',
      details: { url },
      cause: error,
    });
  }
  let json: { ok?: boolean; error?: { code?: string; message?: string } } & Partial<FlagWriteResult> = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    /* a non-JSON answer is reported below with its status */
  }
  if (status !== 200 || json.ok !== true) {
    const code = json.error?.code ?? `HTTP ${status}`;
    throw operationsErrors.create('WVO_DEPLOY_FLAG_FAILED', `set ${flag}=${value} at ${laneUrl}: ${code}: ${json.error?.message ?? text.slice(0, 200)}`, {
      subject: flag,
      hint:
        code === 'WVO_ADMIN_DISABLED' || code === 'WVO_ADMIN_UNAUTHORIZED'
          ? 'start the lanes and the controller with the same WVO_ADMIN_TOKEN'
          : 'see the worker code in details',
      details: { status, worker_code: code, url },
    });
  }
  return { flag: json.flag!, value: json.value!, previous: json.previous ?? null, changed: json.changed ?? false };
}
