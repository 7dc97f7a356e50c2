import { systemClock, type Clock } from '../../../common/src/clock.js';
import { RuntimeError, logExcerpt } from './errors.js';
import type { HealthOptions, LaneHealth, LaneInfo } from './lane-runtime.js';
import { httpHealthPath, mcpHealthPath, probeMcpReady } from './mcp-ready.js';

export interface ReadyProbeResult {
  ready: boolean;
  httpStatus?: number;
  detail?: string;
}

/**
 * One readiness check with a short timeout: GET the health path (default `/readyz`), or MCP
 * (`mcp`, `mcp:/path`) for any MCP server. Network errors are "not ready", never thrown.
 */
export async function probeReady(baseUrl: string, timeoutMs = 1000, health = '/readyz', mcpPath = '/mcp'): Promise<ReadyProbeResult> {
  const mcp = mcpHealthPath(health, mcpPath);
  if (mcp) return probeMcpReady(baseUrl, mcp, Math.max(timeoutMs, 1000));
  // A referenced timer, not AbortSignal.timeout(): a connection accepted by docker-proxy before the
  // worker listens can hang with no referenced handle left, and the process would just exit.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  try {
    const response = await fetch(`${baseUrl}${httpHealthPath(health)}`, { signal: controller.signal });
    const body = await response.text();
    return { ready: response.status === 200, httpStatus: response.status, detail: body.slice(0, 300) };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { ready: false, detail: cause?.code ?? cause?.message ?? (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `LaneRuntime.health` for a runtime that lists lanes with their URL (docker, swarm): a lane with
 * no URL is not running; one listed ready that fails the probe is `unhealthy`.
 */
export async function probeListedLane(lane: LaneInfo, options: HealthOptions = {}): Promise<LaneHealth> {
  const name = lane.name;
  if (!lane.url) return { name, ready: false, status: lane.status, detail: 'not running' };
  const probe = await probeReady(lane.url, options.probeTimeoutMs ?? 1000, lane.health, lane.mcpPath);
  const status = probe.ready ? 'ready' : lane.status === 'ready' ? 'unhealthy' : lane.status;
  return { name, ready: probe.ready, status, ...(probe.httpStatus ? { httpStatus: probe.httpStatus } : {}), ...(probe.detail ? { detail: probe.detail } : {}) };
}

export interface WaitReadyOptions {
  lane: string;
  /** Base URL, or a function that resolves it once known (e.g. after a port is published). */
  url: () => Promise<string | undefined>;
  timeoutMs: number;
  intervalMs?: number;
  probeTimeoutMs?: number;
  clock?: Clock;
  /** The app's health spec (default `/readyz`) and MCP path. */
  health?: string;
  mcpPath?: string;
  /** Checked every round: an Error when the lane died (stop waiting and throw it). */
  failure?: () => Promise<Error | undefined>;
  /** Log excerpt for the deadline error. */
  logs?: () => Promise<string>;
}

/** Poll /readyz until 200, the lane dies (its error), or the deadline passes (WVO_LANE_NOT_READY). */
export async function waitReady(options: WaitReadyOptions): Promise<string> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.timeoutMs;
  let last: ReadyProbeResult | undefined;
  for (;;) {
    const dead = await options.failure?.();
    if (dead) throw dead;
    const url = await options.url();
    if (url) {
      // Short probes: before the worker listens, docker-proxy accepts and then hangs the request.
      last = await probeReady(url, options.probeTimeoutMs ?? 250, options.health, options.mcpPath);
      if (last.ready) return url;
    }
    if (clock.now() >= deadline) {
      const logs = options.logs ? await options.logs().catch(() => '') : '';
      const why = last ? ` (last ${options.health ?? '/readyz'}: ${last.detail && !last.ready && options.health?.startsWith('mcp') ? last.detail : (last.httpStatus ?? last.detail ?? 'no answer')})` : ' (it never printed where it listens)';
      throw new RuntimeError('WVO_LANE_NOT_READY', `lane ${options.lane} was not ready within ${options.timeoutMs} ms${why}; it was removed. Last log lines:\n${logExcerpt(logs)}`, {
        subject: options.lane,
        hint: 'Read the lane logs (`wvo lane logs NAME`); raise lanes.readyTimeoutMs if the worker is merely slow.',
        details: { lastProbe: last, url, logTail: logs.split('\n').slice(-20) },
      });
    }
    await clock.sleep(options.intervalMs ?? 50);
  }
}
