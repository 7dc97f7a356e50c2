import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../../common/src/logger.js';
import type { Clock } from '../../../common/src/clock.js';
import { isWvoError } from '../../../common/src/errors.js';
import { ForwardHandler, upstreamHeaders, writeProxyError, type ForwardOutcome } from './forward.js';
import type { ProxyMetrics } from './metrics.js';
import type { SessionPolicy } from './options.js';
import type { Service } from './service.js';
import type { SessionMover } from './session-mover.js';
import type { Session, SessionTable } from './session-table.js';
import { clientAnswers, isBusy, ServerRequestWatcher } from './in-flight.js';
import { listChangedEvents } from './surface-digest.js';
import { moveGate, routeSession, type MoveGate } from './switch-rules.js';
import type { Target } from './target.js';
import { ToolResultSniffer, toolCallName } from './tool-call.js';

export interface RouterOptions {
  sessionPolicy: SessionPolicy;
  moveGraceMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  streamIdleTimeoutMs: number;
  maxBodyBytes: number;
  clock: Clock;
  logger: Logger;
}

const INITIALIZE = Buffer.from('"initialize"');
const INITIALIZED = Buffer.from('notifications/initialized');

function jsonMethod(body: Buffer): string | undefined {
  try {
    const message = JSON.parse(body.toString('utf8')) as { method?: unknown };
    return typeof message?.method === 'string' ? message.method : undefined;
  } catch {
    return undefined;
  }
}

/** A single (non-batch) JSON-RPC `initialize` request. The byte check keeps JSON.parse off the hot path. */
export function isInitializeRequest(body: Buffer | null): body is Buffer {
  return body !== null && body.includes(INITIALIZE) && jsonMethod(body) === 'initialize';
}

function isInitializedNotification(body: Buffer | null): body is Buffer {
  return body !== null && body.includes(INITIALIZED) && jsonMethod(body) === 'notifications/initialized';
}

const ignore = (): void => undefined;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The data plane (kamal-proxy's Router): picks the lane for each request — the session's pinned
 * lane, or for new sessions and session-less calls the active lane or, by weight, the canary —
 * moves or expires sessions
 * whose lane stopped serving them, and hands the request to a ForwardHandler.
 */
export class Router {
  constructor(
    private readonly service: Service,
    private readonly sessions: SessionTable,
    private readonly mover: SessionMover,
    private readonly metrics: ProxyMetrics,
    private readonly options: RouterOptions,
  ) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? 'GET';
    if (method === 'GET' || method === 'HEAD' || method === 'DELETE' || method === 'OPTIONS') {
      this.route(req, res, null);
      return;
    }
    const limit = this.options.maxBodyBytes;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return this.rejectBody(req, res);
    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    req.on('data', (chunk: Buffer) => {
      if (rejected) return;
      size += chunk.length;
      if (size > limit) {
        rejected = true;
        this.rejectBody(req, res);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (rejected) return;
      this.route(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', ignore);
  };

  /**
   * At a lane's drain deadline: close the GET streams of its sessions (SDK clients reconnect, and
   * move). A session with work in flight keeps them until its first quiet moment (`settle`).
   */
  retire(lane: string): void {
    const now = this.options.clock.now();
    for (const session of this.sessions.onLane(lane)) {
      // A fresh retirement starts a fresh grace (the lane may have served again meanwhile).
      session.due = { since: now, deferred: false, forced: false };
      if (this.holdMove(session, now) !== 'wait') this.closeStreams(session);
    }
  }

  private closeStreams(session: Session): void {
    for (const stream of [...session.streams]) stream.close();
  }

  /**
   * A session due to leave its lane: does it wait for a quiet moment (`wait`), or go now? Counts
   * each session once as deferred and once as forced, and arms the hard cap's timer.
   */
  private holdMove(session: Session, now: number): MoveGate {
    const due = (session.due ??= { since: now, deferred: false, forced: false });
    const target = this.service.target(session.lane);
    const healthy = target?.healthy ?? false;
    const gate = moveGate({ busy: isBusy(session.flight), laneHealthy: healthy, dueSince: due.since, now, graceMs: this.options.moveGraceMs });
    if (gate === 'wait' && !due.deferred) {
      due.deferred = true;
      this.metrics.movesDeferred.labels(session.lane).inc();
      const timer = setTimeout(() => this.settle(session), due.since + this.options.moveGraceMs - now + 1);
      timer.unref();
    } else if (gate === 'force' && !due.forced) {
      due.forced = true;
      this.metrics.movesForced.labels(session.lane, healthy ? 'cap' : 'unhealthy').inc();
    }
    return gate;
  }

  /**
   * A quiet moment (a POST of a due session ended) or the hard cap: a session still due to move
   * closes its GET streams now; the client reconnects, and that request moves it.
   */
  private settle(session: Session): void {
    if (session.due === undefined || this.sessions.get(session.clientId) !== session) return;
    const now = this.options.clock.now();
    if (routeSession(this.service.role(session.lane, now), this.options.sessionPolicy, session.initialize !== undefined) === 'forward') {
      session.due = undefined; // its lane serves again
      return;
    }
    if (this.holdMove(session, now) !== 'wait') this.closeStreams(session);
  }

  private rejectBody(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('connection', 'close');
    writeProxyError(res, 413, 'WVO_PROXY_BODY_TOO_LARGE', `request body over ${this.options.maxBodyBytes} bytes`);
    req.resume();
  }

  private route(req: IncomingMessage, res: ServerResponse, body: Buffer | null): void {
    const started = performance.now();
    const tool = toolCallName(body);
    const clientId = header(req, 'mcp-session-id');
    if (clientId !== undefined) {
      const session = this.sessions.get(clientId);
      if (session) return this.routeSession(req, res, body, session, started, tool);
      // Unknown id (e.g. minted before a proxy restart): the active lane decides; adopt it if served.
      return this.forwardNew(req, res, body, started, tool, this.service.activeTarget(), (target, status) => {
        if (status < 400 && req.method !== 'DELETE' && !this.sessions.get(clientId)) {
          this.sessions.create({ clientId, lane: target.name, path: req.url ?? '/', host: header(req, 'host'), origin: header(req, 'origin'), protocolVersion: header(req, 'mcp-protocol-version') }, this.options.clock.now());
        }
      });
    }
    const initialize = req.method === 'POST' && isInitializeRequest(body);
    // Only a session that will be pinned counts against the lanes' shares; during a split only.
    const target = this.service.newSessionTarget(initialize && this.service.canary ? this.sessions.countByLane() : undefined);
    if (initialize) {
      return this.forwardNew(req, res, body, started, undefined, target, (target, status, sessionId) => {
        if (status === 200 && sessionId !== undefined) {
          this.sessions.create(
            { clientId: sessionId, lane: target.name, path: req.url ?? '/', initialize: body, host: header(req, 'host'), origin: header(req, 'origin') },
            this.options.clock.now(),
          );
        }
      });
    }
    this.forwardNew(req, res, body, started, tool, target, undefined);
  }

  private routeSession(req: IncomingMessage, res: ServerResponse, body: Buffer | null, session: Session, started: number, tool: string | undefined): void {
    const now = this.options.clock.now();
    session.lastSeenAt = now;
    if (session.protocolVersion === undefined) {
      session.protocolVersion = header(req, 'mcp-protocol-version');
      if (session.protocolVersion !== undefined) this.sessions.notify();
    }
    if (session.initialized === undefined && req.method === 'POST' && isInitializedNotification(body)) {
      session.initialized = body;
      this.sessions.notify();
    }
    const behind = req.method === 'POST' ? this.answersLeftBehind(session, body) : undefined;
    if (behind) return this.forwardSession(req, res, body, session, started, tool, true, behind);
    const role = this.service.role(session.lane, now);
    const decision = routeSession(role, this.options.sessionPolicy, session.initialize !== undefined);
    if (decision === 'forward') {
      session.due = undefined;
      return this.forwardSession(req, res, body, session, started, tool);
    }
    // Due to move (or expire), but mid-exchange: it stays where the exchange started.
    if (this.holdMove(session, now) === 'wait') return this.forwardSession(req, res, body, session, started, tool);
    if (decision === 'expire') {
      for (const stream of [...session.streams]) stream.close();
      this.sessions.remove(session.clientId);
      this.metrics.sessionExpiries.labels(session.lane).inc();
      writeProxyError(res, 404, 'WVO_PROXY_SESSION_EXPIRED', `session ${session.clientId} ended with lane ${session.lane}; initialize a new session`);
      return;
    }
    if (!this.service.activeTarget()) return writeProxyError(res, 503, 'WVO_PROXY_NO_ACTIVE_LANE', 'no active lane');
    this.moveThen(res, session, () => this.forwardSession(req, res, body, session, started, tool));
  }

  /**
   * A client POST answering requests that a lane asked before a forced move took the session
   * away: it goes back to that lane's upstream session (where the tool call waits for it), while
   * that lane still serves. Undefined for anything else.
   */
  private answersLeftBehind(session: Session, body: Buffer | null): { lane: string; upstreamId: string } | undefined {
    if (session.leftBehind.size === 0) return undefined;
    const keys = clientAnswers(body);
    const first = keys.length > 0 ? session.leftBehind.get(keys[0]!) : undefined;
    if (!first || !keys.every((key) => session.leftBehind.get(key)?.lane === first.lane)) return undefined;
    for (const key of keys) session.leftBehind.delete(key);
    return this.service.target(first.lane) ? first : undefined;
  }

  /** Re-initialize `session` on the active lane (or its own, when none), then run `next`. */
  private moveThen(res: ServerResponse, session: Session, next: () => void): void {
    const current = this.service.target(session.lane);
    const to = this.service.activeTarget() ?? current;
    if (!to) return writeProxyError(res, 503, 'WVO_PROXY_NO_ACTIVE_LANE', 'no active lane');
    for (const stream of [...session.streams]) stream.close();
    this.mover.move(session, to, current).then(
      () => {
        if (!res.destroyed) next();
      },
      (error: unknown) => {
        const message = isWvoError(error) ? error.message : String(error);
        writeProxyError(res, 502, 'WVO_PROXY_SESSION_MOVE_FAILED', message);
      },
    );
  }

  private forwardSession(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer | null,
    session: Session,
    started: number,
    tool: string | undefined,
    retried = false,
    /** Another lane and upstream session than the session's own (answers left behind by a forced move). */
    via?: { lane: string; upstreamId: string },
  ): void {
    const lane = via?.lane ?? session.lane;
    const target = this.service.target(lane);
    if (!target) return writeProxyError(res, 503, 'WVO_PROXY_NO_ACTIVE_LANE', `lane ${lane} is gone`);
    const upstreamId = via?.upstreamId ?? session.upstreamId;
    const moved = upstreamId !== session.clientId;
    const sentUpstreamId = session.upstreamId;
    const isStream = req.method === 'GET';
    const isDelete = req.method === 'DELETE';
    const isPost = req.method === 'POST';
    const sniffer = tool === undefined ? undefined : new ToolResultSniffer();
    const { flight } = session;
    if (isPost) {
      if (flight.asked.size > 0) for (const key of clientAnswers(body)) flight.asked.delete(key);
      flight.posts += 1;
    }
    // Lane → client requests ride the GET stream, or the POST stream of the call they serve.
    const watcher = isStream || isPost ? new ServerRequestWatcher(flight, isPost ? {} : undefined) : undefined;
    const handler: ForwardHandler = new ForwardHandler(res, {
      target,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: upstreamHeaders(req.rawHeaders, moved ? upstreamId : undefined, isStream && session.streamLane !== undefined && session.streamLane !== session.lane),
      body,
      headersTimeout: this.options.headersTimeoutMs,
      bodyTimeout: isStream ? this.options.streamIdleTimeoutMs : this.options.bodyTimeoutMs,
      clientSessionId: moved ? session.clientId : undefined,
      // The lane lost the session (restarted, or expired it): re-initialize it and retry once, so
      // SDK clients, which never re-initialize on their own, keep working.
      ...(!retried && !isDelete && session.initialize !== undefined && this.options.sessionPolicy === 'move'
        ? {
            onSessionLost: () => {
              const retry = () => this.forwardSession(req, res, body, session, started, tool, true);
              // Another request of the session already re-initialized it meanwhile: just retry.
              if (session.upstreamId !== sentUpstreamId || session.lane !== target.name) retry();
              else this.moveThen(res, session, retry);
            },
          }
        : {}),
      ...(sniffer ? { sniffer } : {}),
      ...(watcher ? { watcher } : {}),
      ...(isStream && session.notices.size > 0
        ? { preamble: listChangedEvents(session.notices), onPreamble: () => session.notices.clear() }
        : {}),
      onDone: (outcome) => {
        watcher?.end();
        if (isPost) flight.posts -= 1;
        if (isPost && flight.posts === 0) for (const run of session.afterPosts.splice(0)) run();
        if (isStream) session.streams.delete(handler);
        // DELETE drops the pin once the lane confirms the session is gone.
        if (isDelete && outcome.status >= 200 && outcome.status < 300) this.sessions.remove(session.clientId);
        this.record(target, req, outcome, started, tool, sniffer);
        if (session.due !== undefined && !isBusy(flight)) this.settle(session);
      },
    });
    if (isStream) {
      session.streams.add(handler);
      session.streamLane = session.lane;
    }
    handler.start();
  }

  private forwardNew(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer | null,
    started: number,
    tool: string | undefined,
    target: Target | undefined,
    onStart: ((target: Target, status: number, sessionId: string | undefined) => void) | undefined,
  ): void {
    if (!target) return writeProxyError(res, 503, 'WVO_PROXY_NO_ACTIVE_LANE', 'no active lane; register one and switch to it');
    const isStream = req.method === 'GET';
    const sniffer = tool === undefined ? undefined : new ToolResultSniffer();
    new ForwardHandler(res, {
      target,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: upstreamHeaders(req.rawHeaders, undefined),
      body,
      headersTimeout: this.options.headersTimeoutMs,
      bodyTimeout: isStream ? this.options.streamIdleTimeoutMs : this.options.bodyTimeoutMs,
      clientSessionId: undefined,
      ...(onStart
        ? {
            onResponseStart: (status, sessionId) => onStart(target, status, sessionId),
          }
        : {}),
      ...(sniffer ? { sniffer } : {}),
      onDone: (outcome) => this.record(target, req, outcome, started, tool, sniffer),
    }).start();
  }

  private record(
    target: Target,
    req: IncomingMessage,
    outcome: ForwardOutcome,
    started: number,
    tool: string | undefined,
    sniffer: ToolResultSniffer | undefined,
  ): void {
    const status = outcome.clientAborted ? 499 : outcome.status || 502;
    if (outcome.sessionLost) this.metrics.upstreamErrors.labels(target.name, 'session_lost').inc();
    if (outcome.clientAborted) this.metrics.clientAborts.labels(target.name).inc();
    else if (outcome.error && !outcome.closedByProxy) this.metrics.upstreamErrors.labels(target.name, outcome.error.name).inc();
    const seconds = req.method === 'GET' ? undefined : (performance.now() - started) / 1000;
    const meter = this.metrics.meter(target.name);
    meter.request(status, seconds);
    // A 404 held back for a retry is not the call's answer: the retry records it.
    if (tool === undefined || outcome.sessionLost) return;
    const result = outcome.clientAborted
      ? 'aborted'
      : status >= 400 || outcome.error !== undefined
        ? 'http_error'
        : (sniffer?.finish() ?? 'unknown');
    meter.toolCall(tool, result, seconds);
  }
}
