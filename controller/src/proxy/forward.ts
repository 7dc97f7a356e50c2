import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { PROXY_ERRORS } from './errors.js';
import type { Closable } from './session-table.js';
import type { Target } from './target.js';

/** Longest a POST SSE response's headers wait for its first event before going out alone. */
export const HEADER_FLUSH_MS = 20;

/** Response headers that describe one hop, never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

export interface ForwardSpec {
  readonly target: Target;
  readonly method: string;
  readonly path: string;
  /** Flat [name, value, ...] request headers, already cleaned and rewritten. */
  readonly headers: string[];
  readonly body: Buffer | null;
  readonly headersTimeout: number;
  /** Longest silence between body chunks (0 = none, for GET streams). */
  readonly bodyTimeout: number;
  /** The client's session id, written back over the upstream's id (sessions that moved lanes). */
  readonly clientSessionId: string | undefined;
  readonly onResponseStart?: (status: number, headers: IncomingHttpHeaders) => void;
  /**
   * The lane answered 404 for the session (it lost it: restarted, or expired it). When set, that
   * 404 is not relayed: the handler finishes quietly and this is called so the router can
   * re-initialize the session and retry the request (its body is buffered).
   */
  readonly onSessionLost?: () => void;
  readonly onDone: (outcome: ForwardOutcome) => void;
}

export interface ForwardOutcome {
  status: number;
  /** The client went away first; the upstream request was aborted. */
  clientAborted: boolean;
  /** Closed by the proxy (drain deadline). */
  closedByProxy: boolean;
  /** The lane's 404 was held back for a retry (`onSessionLost`). */
  sessionLost: boolean;
  error: Error | undefined;
}

class ClientGoneError extends Error {
  constructor() {
    super('client disconnected');
    this.name = 'ClientGoneError';
  }
}

/** A JSON-RPC error body with the proxy's code, so MCP clients show something meaningful. */
export function writeProxyError(res: ServerResponse, status: number, code: keyof typeof PROXY_ERRORS, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: `${code}: ${message}`, data: { code } }, id: null });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * One forwarded request: an undici dispatch handler that streams the upstream response straight
 * into the client's response (no buffering, backpressure through pause/resume) and aborts the
 * upstream request the moment the client disconnects.
 */
export class ForwardHandler implements Dispatcher.DispatchHandler, Closable {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private done = false;
  private clientGone = false;
  private closing = false;
  private wroteBody = false;
  private sessionLost = false;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly spec: ForwardSpec,
  ) {
    res.on('close', this.onClientClose);
  }

  start(): void {
    const { spec } = this;
    spec.target.inflight += 1;
    spec.target.dispatcherFor(spec.method).dispatch(
      {
        path: spec.path,
        method: spec.method as Dispatcher.HttpMethod,
        headers: spec.headers,
        body: spec.body,
        headersTimeout: spec.headersTimeout,
        bodyTimeout: spec.bodyTimeout,
      },
      this,
    );
  }

  /** Close at a drain deadline: end the client's stream cleanly (SDK clients reconnect) and abort upstream. */
  close(): void {
    if (this.done) return;
    this.closing = true;
    if (this.res.headersSent) this.res.end();
    else this.res.destroy();
    this.controller?.abort(new Error('closed at drain deadline'));
  }

  private readonly onClientClose = (): void => {
    if (this.done || this.closing) return;
    this.clientGone = true;
    this.controller?.abort(new ClientGoneError());
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.clientGone) controller.abort(new ClientGoneError());
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.status = statusCode;
    if (statusCode === 404 && this.spec.onSessionLost && !this.clientGone && !this.closing) {
      this.sessionLost = true;
      return;
    }
    const out: Record<string, string | string[]> = {};
    for (const key in headers) {
      if (HOP_BY_HOP.has(key)) continue;
      const value = headers[key];
      if (value !== undefined) out[key] = value;
    }
    const { clientSessionId } = this.spec;
    if (clientSessionId !== undefined && out['mcp-session-id'] !== undefined) out['mcp-session-id'] = clientSessionId;
    this.spec.onResponseStart?.(statusCode, headers);
    if (this.clientGone || this.closing) return;
    this.res.writeHead(statusCode, out);
    // SSE: the client must see the headers without waiting for the first event. A GET stream may
    // idle for minutes: flush now. A POST stream's first event nearly always follows within a few
    // ms: the headers go out with it (one write instead of two — on loopback each write costs the
    // proxy the receiver's TCP work too), or alone after HEADER_FLUSH_MS if the lane stays silent.
    const type = headers['content-type'];
    if (typeof type === 'string' && type.startsWith('text/event-stream')) {
      if (this.spec.method === 'GET') this.res.flushHeaders();
      else this.flushTimer = setTimeout(this.flushIfIdle, HEADER_FLUSH_MS);
    }
  }

  private readonly flushIfIdle = (): void => {
    this.flushTimer = undefined;
    if (!this.wroteBody && !this.done && !this.res.destroyed) this.res.flushHeaders();
  };

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.clientGone || this.closing || this.sessionLost) return;
    if (!this.wroteBody) {
      this.wroteBody = true;
      if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    }
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    if (this.sessionLost) {
      this.finish(undefined);
      this.spec.onSessionLost!();
      return;
    }
    if (this.closing) return this.finish(undefined);
    this.res.end();
    this.finish(undefined);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (!this.clientGone && !this.closing) {
      const timeout = error.name === 'HeadersTimeoutError' || error.name === 'BodyTimeoutError';
      if (timeout) writeProxyError(this.res, 504, 'WVO_PROXY_UPSTREAM_TIMEOUT', `lane ${this.spec.target.name}: ${error.message}`);
      else writeProxyError(this.res, 502, 'WVO_PROXY_UPSTREAM_UNREACHABLE', `lane ${this.spec.target.name}: ${error.message}`);
    }
    this.finish(error);
  }

  private finish(error: Error | undefined): void {
    if (this.done) return;
    this.done = true;
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.spec.target.inflight -= 1;
    this.res.off('close', this.onClientClose);
    this.spec.onDone({ status: this.status, clientAborted: this.clientGone, closedByProxy: this.closing, sessionLost: this.sessionLost, error });
  }
}

/**
 * Request headers for the upstream: everything the client sent (Host, Origin, MCP-Protocol-Version,
 * Last-Event-ID, Mcp-Session-Id unchanged) minus hop-by-hop headers and content-length (undici sets
 * it from the buffered body); `Mcp-Session-Id` rewritten when the session's upstream id differs;
 * `Last-Event-ID` dropped when it was minted by another lane (after a move: event ids are per lane).
 */
export function upstreamHeaders(raw: string[], upstreamSessionId: string | undefined, dropEventCursor = false): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'content-length' || lower === 'expect') continue;
    if (dropEventCursor && lower === 'last-event-id') continue;
    if (lower === 'mcp-session-id' && upstreamSessionId !== undefined) {
      out.push(name, upstreamSessionId);
      continue;
    }
    out.push(name, raw[i + 1]!);
  }
  return out;
}
