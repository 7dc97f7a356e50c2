import type { ServerResponse } from 'node:http';
import { util as undiciUtil, type Dispatcher } from 'undici';
import type { PROXY_ERRORS } from './errors.js';
import type { Closable } from './session-table.js';
import type { Target } from './target.js';
import type { ServerRequestWatcher } from './in-flight.js';
import type { ToolResultSniffer } from './tool-call.js';

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
  /** The upstream's response status and its `Mcp-Session-Id` (as the lane sent it). */
  readonly onResponseStart?: (status: number, sessionId: string | undefined) => void;
  /**
   * The lane answered 404 for the session (it lost it: restarted, or expired it). When set, that
   * 404 is not relayed: the handler finishes quietly and this is called so the router can
   * re-initialize the session and retry the request (its body is buffered).
   */
  readonly onSessionLost?: () => void;
  /** Sees the response's content type and every body chunk as it is forwarded (tools/call outcomes). */
  readonly sniffer?: ToolResultSniffer;
  /**
   * SSE events the proxy itself owes the client (list_changed after a move to a lane with another
   * surface): written on a GET stream right after its headers, before any lane event, so they
   * never land inside one. `onPreamble` says they went out.
   */
  readonly preamble?: Buffer;
  readonly onPreamble?: () => void;
  /** Sees a session's SSE responses as they pass: the lane's requests to the client (in-flight-aware moves). */
  readonly watcher?: ServerRequestWatcher;
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

/**
 * POST SSE responses whose headers wait for the first event, in arrival order (so deadline order):
 * one timer serves them all, instead of a timer armed and cleared for every response.
 */
class HeaderFlusher {
  private readonly waiting = new Map<ForwardHandler, number>();
  private timer: NodeJS.Timeout | undefined;

  add(handler: ForwardHandler): void {
    this.waiting.set(handler, performance.now() + HEADER_FLUSH_MS);
    this.timer ??= setTimeout(this.sweep, HEADER_FLUSH_MS);
  }

  /** The first event came (or the request ended): nothing to flush. The timer, if idle, lapses. */
  delete(handler: ForwardHandler): void {
    this.waiting.delete(handler);
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    const now = performance.now();
    for (const [handler, deadline] of this.waiting) {
      if (deadline > now) {
        this.timer = setTimeout(this.sweep, Math.ceil(deadline - now));
        return;
      }
      this.waiting.delete(handler);
      handler.flushIfIdle();
    }
  };
}

const headerFlusher = new HeaderFlusher();

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
 *
 * It implements undici's raw handler interface (onConnect / onHeaders / onData / onComplete /
 * onError), the one undici's core calls: the newer controller interface is an adapter over it
 * that allocates a wrapper and a controller and parses every response's headers (and trailers)
 * into an object per request. Here the raw header list goes straight out as a flat array.
 */
export class ForwardHandler implements Dispatcher.DispatchHandler, Closable {
  private abortUpstream: ((error?: Error) => void) | undefined;
  private resumeUpstream: (() => void) | undefined;
  private aborted = false;
  private paused = false;
  private status = 0;
  private done = false;
  private clientGone = false;
  private closing = false;
  private wroteBody = false;
  private sessionLost = false;
  private awaitingFirstEvent = false;

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
    this.abort(new Error('closed at drain deadline'));
  }

  private abort(reason: Error): void {
    if (this.aborted || this.abortUpstream === undefined) return;
    this.aborted = true;
    this.abortUpstream(reason);
  }

  private readonly onClientClose = (): void => {
    if (this.done || this.closing) return;
    this.clientGone = true;
    this.abort(new ClientGoneError());
  };

  private readonly onClientDrain = (): void => {
    if (!this.paused) return;
    this.paused = false;
    this.resumeUpstream?.();
  };

  onConnect(abort: (error?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.clientGone) this.abort(new ClientGoneError());
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    this.status = statusCode;
    this.resumeUpstream = resume;
    if (statusCode === 404 && this.spec.onSessionLost && !this.clientGone && !this.closing) {
      this.sessionLost = true;
      return true;
    }
    const { clientSessionId } = this.spec;
    const out: string[] = [];
    let sessionId: string | undefined;
    let eventStream = false;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = undiciUtil.headerNameToString(rawHeaders[i]!);
      if (HOP_BY_HOP.has(name)) continue;
      let value = rawHeaders[i + 1]!.toString('latin1');
      if (name === 'mcp-session-id') {
        sessionId ??= value;
        if (clientSessionId !== undefined) value = clientSessionId;
      } else if (name === 'content-type' && !eventStream) {
        eventStream = value.startsWith('text/event-stream');
        this.spec.sniffer?.start(value);
        this.spec.watcher?.start(value);
      }
      out.push(name, value);
    }
    this.spec.onResponseStart?.(statusCode, sessionId);
    if (this.clientGone || this.closing) return true;
    this.res.writeHead(statusCode, out);
    // SSE: the client must see the headers without waiting for the first event. A GET stream may
    // idle for minutes: flush now. A POST stream's first event nearly always follows within a few
    // ms: the headers go out with it (one write instead of two — on loopback each write costs the
    // proxy the receiver's TCP work too), or alone after HEADER_FLUSH_MS if the lane stays silent.
    if (eventStream) {
      if (this.spec.method === 'GET') {
        this.res.flushHeaders();
        if (this.spec.preamble && statusCode === 200) {
          this.res.write(this.spec.preamble);
          this.spec.onPreamble?.();
        }
      } else {
        this.awaitingFirstEvent = true;
        headerFlusher.add(this);
      }
    }
    return true;
  }

  /** HEADER_FLUSH_MS passed without an event: send the headers alone. */
  flushIfIdle(): void {
    this.awaitingFirstEvent = false;
    if (!this.wroteBody && !this.done && !this.res.destroyed) this.res.flushHeaders();
  }

  private stopAwaitingFirstEvent(): void {
    this.awaitingFirstEvent = false;
    headerFlusher.delete(this);
  }

  onData(chunk: Buffer): boolean {
    if (this.clientGone || this.closing || this.sessionLost) return true;
    if (!this.wroteBody) {
      this.wroteBody = true;
      if (this.awaitingFirstEvent) this.stopAwaitingFirstEvent();
    }
    this.spec.sniffer?.data(chunk);
    this.spec.watcher?.data(chunk);
    if (this.res.write(chunk)) return true;
    if (!this.paused) {
      this.paused = true;
      this.res.once('drain', this.onClientDrain);
    }
    return false;
  }

  onComplete(): void {
    if (this.sessionLost) {
      this.finish(undefined);
      this.spec.onSessionLost!();
      return;
    }
    if (this.closing) return this.finish(undefined);
    this.res.end();
    this.finish(undefined);
  }

  onError(error: Error): void {
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
    if (this.awaitingFirstEvent) this.stopAwaitingFirstEvent();
    this.spec.target.inflight -= 1;
    this.res.off('close', this.onClientClose);
    if (this.paused) this.res.off('drain', this.onClientDrain);
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
