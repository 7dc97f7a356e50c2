import type { Logger } from '../../../common/src/logger.js';
import type { Clock } from '../../../common/src/clock.js';
import type { RandomSource } from './canary-split.js';
import { ProxyError } from './errors.js';
import { DEFAULT_HEALTH, formatHealthSpec, parseHealthSpec } from './health-spec.js';

export const SESSION_POLICIES = ['move', 'expire'] as const;
export type SessionPolicy = (typeof SESSION_POLICIES)[number];

export interface LaneSpec {
  readonly name: string;
  readonly url: string;
  /** How this lane's health is checked (see health-spec.ts); absent = the proxy's `health`. */
  readonly health?: string;
}

/** One options type for `startProxy`; the CLI builds it from flags. */
export interface ProxyOptions {
  /** Data plane address, `host:port` (port 0 = ephemeral). Default `127.0.0.1:8080`. */
  listen?: string;
  /** Admin API: `host:port` on loopback or `unix:/path`. Default `127.0.0.1:8081`. */
  admin?: string;
  /** Allow the admin API on a non-loopback address (containers); the token still guards it. */
  adminAnyHost?: boolean;
  /** Bearer token for the admin API (required). */
  token: string;
  /** Route table file (active lane + registered lanes). Without it nothing survives a restart. */
  statePath?: string;
  /** How long sessions stay pinned to a lane after it stops being active. Default 30 s. */
  drainTimeoutMs?: number;
  /** At the drain deadline: `move` re-initializes the session on the active lane; `expire` answers 404. */
  sessionPolicy?: SessionPolicy;
  /**
   * After the drain deadline, a session with work in flight (a POST being answered, a sampling,
   * elicitation or roots request the client has not answered) stays on its lane until its first
   * quiet moment, at most this long; then it moves anyway. Default 30 s; 0 = never wait.
   */
  moveGraceMs?: number;
  lanes?: readonly LaneSpec[];
  /** Active lane at startup when the route table does not name one. */
  active?: string;
  /** Default lane health check: `/readyz` (HTTP GET), `http:/path`, `mcp` or `mcp:/path`. */
  health?: string;
  healthIntervalMs?: number;
  healthTimeoutMs?: number;
  /**
   * Upstream keep-alive connections per lane for POST/DELETE (GET streams have their own, unbounded).
   * Generous on purpose: a tool call waiting on an elicitation holds its connection while the
   * client's answer needs another one, so a small pool can deadlock under load.
   */
  connectionsPerLane?: number;
  /** Upstream: time to response headers. */
  headersTimeoutMs?: number;
  /** Upstream: longest silence between body chunks of a POST response (0 = none). */
  bodyTimeoutMs?: number;
  /** Upstream: longest silence on a GET (server-to-client SSE) stream (0 = none). */
  streamIdleTimeoutMs?: number;
  /** Largest request body accepted. */
  maxBodyBytes?: number;
  /** Sessions unseen this long are forgotten (their lane keeps its own policy). */
  sessionIdleTtlMs?: number;
  logger?: Logger;
  clock?: Clock;
  /** Uniform draws in [0, 1) for the weighted canary split (default Math.random; seeded in tests). */
  random?: RandomSource;
}

export type ResolvedProxyOptions = Required<Omit<ProxyOptions, 'statePath' | 'active' | 'logger' | 'clock' | 'random'>> &
  Pick<ProxyOptions, 'statePath' | 'active'> & { logger: Logger; clock: Clock; random: RandomSource };

export const PROXY_DEFAULTS = {
  listen: '127.0.0.1:8080',
  admin: '127.0.0.1:8081',
  drainTimeoutMs: 30_000,
  sessionPolicy: 'move' as SessionPolicy,
  health: DEFAULT_HEALTH,
  moveGraceMs: 30_000,
  healthIntervalMs: 1_000,
  healthTimeoutMs: 2_000,
  connectionsPerLane: 128,
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 300_000,
  streamIdleTimeoutMs: 0,
  maxBodyBytes: 4 * 1024 * 1024,
  sessionIdleTtlMs: 6 * 60 * 60 * 1000,
};

export type ListenAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** `host:port`, `:port`, `port`, `[::1]:port` or (when allowed) `unix:/path`. */
export function parseListenAddress(value: string, flag: string, allowUnix: boolean): ListenAddress {
  if (value.startsWith('unix:')) {
    const path = value.slice('unix:'.length);
    if (!allowUnix || path.length === 0) {
      throw new ProxyError('WVO_PROXY_ADDRESS_INVALID', `unix socket not allowed or empty: ${value}`, { subject: flag, exitCode: 2 });
    }
    return { kind: 'unix', path };
  }
  const match = /^(?:(\[[^\]]+\]|[^:]*):)?(\d{1,5})$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !(port >= 0 && port <= 65535)) {
    throw new ProxyError('WVO_PROXY_ADDRESS_INVALID', `expected host:port, got ${JSON.stringify(value)}`, {
      subject: flag,
      hint: 'for example 127.0.0.1:8080 (or unix:/path/admin.sock for --admin)',
      exitCode: 2,
    });
  }
  const host = (match[1] ?? '').replace(/^\[|\]$/g, '') || '127.0.0.1';
  return { kind: 'tcp', host, port };
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `2m`, `1h` or a bare number of milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) {
    throw new ProxyError('WVO_PROXY_OPTION_INVALID', `not a duration: ${JSON.stringify(value)}`, {
      subject: flag,
      hint: 'use 500ms, 30s, 2m or a number of milliseconds',
      exitCode: 2,
    });
  }
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
}

const LANE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Validate a lane name, URL (http/https origin, optional base path ignored) and health spec. */
export function validateLane(spec: LaneSpec): LaneSpec {
  if (!LANE_NAME.test(spec.name)) {
    throw new ProxyError('WVO_PROXY_LANE_INVALID', `invalid lane name ${JSON.stringify(spec.name)}`, {
      subject: 'name',
      hint: 'letters, digits, "_", "-", "." (up to 63 characters)',
    });
  }
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    throw new ProxyError('WVO_PROXY_LANE_INVALID', `invalid lane URL ${JSON.stringify(spec.url)}`, { subject: 'url' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ProxyError('WVO_PROXY_LANE_INVALID', `lane URL must be http(s): ${spec.url}`, { subject: 'url' });
  }
  if (spec.health === undefined) return { name: spec.name, url: url.origin };
  return { name: spec.name, url: url.origin, health: formatHealthSpec(parseHealthSpec(spec.health, 'health')) };
}

/** `name=url` from `--lane`. */
export function parseLaneFlag(value: string): LaneSpec {
  const at = value.indexOf('=');
  if (at <= 0) {
    throw new ProxyError('WVO_PROXY_LANE_INVALID', `expected name=url, got ${JSON.stringify(value)}`, {
      subject: '--lane',
      exitCode: 2,
    });
  }
  return validateLane({ name: value.slice(0, at), url: value.slice(at + 1) });
}

export function resolveProxyOptions(options: ProxyOptions, logger: Logger, clock: Clock): ResolvedProxyOptions {
  if (!options.token) {
    throw new ProxyError('WVO_PROXY_TOKEN_MISSING', 'the admin API needs a bearer token', {
      subject: '--token-file',
      hint: 'pass --token-file FILE or set WVO_PROXY_TOKEN',
      exitCode: 2,
    });
  }
  const policy = options.sessionPolicy ?? PROXY_DEFAULTS.sessionPolicy;
  if (!SESSION_POLICIES.includes(policy)) {
    throw new ProxyError('WVO_PROXY_OPTION_INVALID', `unknown session policy ${JSON.stringify(policy)}`, {
      subject: '--session-policy',
      hint: `one of ${SESSION_POLICIES.join(', ')}`,
      exitCode: 2,
    });
  }
  const resolved: ResolvedProxyOptions = {
    listen: options.listen ?? PROXY_DEFAULTS.listen,
    admin: options.admin ?? PROXY_DEFAULTS.admin,
    adminAnyHost: options.adminAnyHost ?? false,
    token: options.token,
    statePath: options.statePath,
    drainTimeoutMs: options.drainTimeoutMs ?? PROXY_DEFAULTS.drainTimeoutMs,
    sessionPolicy: policy,
    moveGraceMs: options.moveGraceMs ?? PROXY_DEFAULTS.moveGraceMs,
    lanes: (options.lanes ?? []).map(validateLane),
    active: options.active,
    health: formatHealthSpec(parseHealthSpec(options.health ?? PROXY_DEFAULTS.health, '--health')),
    healthIntervalMs: options.healthIntervalMs ?? PROXY_DEFAULTS.healthIntervalMs,
    healthTimeoutMs: options.healthTimeoutMs ?? PROXY_DEFAULTS.healthTimeoutMs,
    connectionsPerLane: options.connectionsPerLane ?? PROXY_DEFAULTS.connectionsPerLane,
    headersTimeoutMs: options.headersTimeoutMs ?? PROXY_DEFAULTS.headersTimeoutMs,
    bodyTimeoutMs: options.bodyTimeoutMs ?? PROXY_DEFAULTS.bodyTimeoutMs,
    streamIdleTimeoutMs: options.streamIdleTimeoutMs ?? PROXY_DEFAULTS.streamIdleTimeoutMs,
    maxBodyBytes: options.maxBodyBytes ?? PROXY_DEFAULTS.maxBodyBytes,
    sessionIdleTtlMs: options.sessionIdleTtlMs ?? PROXY_DEFAULTS.sessionIdleTtlMs,
    logger,
    clock,
    random: options.random ?? Math.random,
  };
  for (const key of ['drainTimeoutMs', 'moveGraceMs', 'healthIntervalMs', 'healthTimeoutMs', 'connectionsPerLane', 'maxBodyBytes'] as const) {
    const value = resolved[key];
    if (!Number.isFinite(value) || value < 0 || (key !== 'drainTimeoutMs' && key !== 'moveGraceMs' && value === 0)) {
      throw new ProxyError('WVO_PROXY_OPTION_INVALID', `${key} must be a positive number, got ${value}`, { subject: key, exitCode: 2 });
    }
  }
  return resolved;
}
