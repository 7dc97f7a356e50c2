import { z } from 'zod';
import { parseOptions } from '../../../common/src/options.js';
import { apiErrors } from './errors.js';

/**
 * One options type for `wvo serve` and `startControllerApi` (STYLE habit 3): the CLI builds it
 * from flags, tests build it directly; defaults and checks live here only.
 */
export const serveOptionsSchema = z.strictObject({
  /** `host:port` (port 0 = ephemeral). Loopback by default: the API changes what serves traffic. */
  listen: z.string().default('127.0.0.1:7070'),
  /** Bearer token required on every route but /healthz. */
  token: z.string().min(1).optional(),
  /** Run without a token: refused unless the address is loopback. */
  insecureNoToken: z.boolean().default(false),
  bodyLimitBytes: z.number().int().positive().default(256 * 1024),
  /** SSE heartbeat comment interval (keeps proxies and clients from timing the stream out). */
  heartbeatMs: z.number().int().positive().default(15_000),
  /** How often controller.db is polled for deployment transitions (published on /events). */
  deploymentPollMs: z.number().int().positive().default(1_000),
  /**
   * Reconcile loop period (0 = off): resume a running deployment no live controller drives, and
   * close keep-warm/retention windows that ended unattended.
   */
  reconcileMs: z.number().int().min(0).default(5_000),
});
export type ServeOptions = z.output<typeof serveOptionsSchema>;
export type ServeOptionsInput = z.input<typeof serveOptionsSchema>;

export interface ListenAddress {
  host: string;
  port: number;
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `host:port`, `:port`, `port` or `[::1]:port`. */
export function parseListen(value: string): ListenAddress {
  const match = /^(?:(\[[^\]]+\]|[^:]*):)?(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || !(port >= 0 && port <= 65535)) {
    throw apiErrors.create('WVO_CONTROLLER_ADDRESS_INVALID', `--listen: expected host:port, got ${JSON.stringify(value)}`, {
      subject: '--listen',
      hint: 'for example 127.0.0.1:7070',
    });
  }
  return { host: (match[1] ?? '').replace(/^\[|\]$/g, '') || '127.0.0.1', port };
}

/** Validate and apply the token rule: a token, or `insecureNoToken` on loopback. */
export function parseServeOptions(input: unknown, source = 'wvo serve'): ServeOptions & { address: ListenAddress } {
  const options = parseOptions(serveOptionsSchema, input, source);
  const address = parseListen(options.listen);
  if (!options.token) {
    if (!options.insecureNoToken) {
      throw apiErrors.create('WVO_CONTROLLER_TOKEN_MISSING', 'no controller token: every API call needs one', {
        subject: '--token-file',
        hint: 'pass --token-file FILE or set WVO_CONTROLLER_TOKEN (for a loopback-only experiment: --insecure-no-token)',
      });
    }
    if (!isLoopbackHost(address.host)) {
      throw apiErrors.create('WVO_CONTROLLER_INSECURE_NOT_LOOPBACK', `--insecure-no-token is refused on ${address.host}: only loopback`, {
        subject: '--listen',
        hint: 'give a token (--token-file / WVO_CONTROLLER_TOKEN), or listen on 127.0.0.1',
      });
    }
  }
  return { ...options, address };
}
