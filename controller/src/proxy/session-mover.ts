import type { Logger } from '../../../common/src/logger.js';
import { ProxyError } from './errors.js';
import type { ProxyMetrics } from './metrics.js';
import type { Session, SessionTable } from './session-table.js';
import { listChangedMethods } from './surface-digest.js';
import type { Target } from './target.js';

/** What the official SDK client sends after `initialize`; used when the client's own copy was not seen. */
const DEFAULT_INITIALIZED = Buffer.from('{"jsonrpc":"2.0","method":"notifications/initialized"}');

export interface MoverOptions {
  timeoutMs: number;
  logger: Logger;
  metrics: ProxyMetrics;
}

/** The JSON-RPC message in a JSON body or in the first non-empty `data:` line of an SSE body. */
export function firstJsonRpcMessage(contentType: string | undefined, text: string): unknown {
  if (contentType?.startsWith('text/event-stream')) {
    for (const line of text.split(/\r?\n/)) {
      // An SDK server with an event store opens the stream with a priming event whose data is empty.
      const data = line.startsWith('data:') ? line.slice(5).trim() : '';
      if (data) return JSON.parse(data);
    }
    return undefined;
  }
  return JSON.parse(text);
}

/**
 * Moves a session to another lane: replays the client's `initialize` and
 * `notifications/initialized` there and rebinds the client's session id to the new upstream id.
 * Official SDK clients never re-initialize after a 404, so this is what keeps them alive.
 * Concurrent requests of one session share one move.
 */
export class SessionMover {
  constructor(
    private readonly sessions: SessionTable,
    private readonly options: MoverOptions,
  ) {}

  move(session: Session, to: Target, from: Target | undefined): Promise<void> {
    session.moving ??= this.run(session, to, from).finally(() => {
      session.moving = undefined;
    });
    return session.moving;
  }

  private async run(session: Session, to: Target, from: Target | undefined): Promise<void> {
    const fromLane = session.lane;
    const started = performance.now();
    try {
      if (!session.initialize) throw new Error('no saved initialize request');
      const base: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        host: session.host ?? to.host,
        ...(session.origin ? { origin: session.origin } : {}),
      };
      const init = await to.pool.request({
        path: session.path,
        method: 'POST',
        headers: base,
        body: session.initialize,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      const text = await init.body.text();
      const upstreamId = init.headers['mcp-session-id'];
      if (init.statusCode !== 200 || typeof upstreamId !== 'string') {
        throw new Error(`initialize answered ${init.statusCode}: ${text.slice(0, 200)}`);
      }
      const message = firstJsonRpcMessage(init.headers['content-type'] as string | undefined, text) as { error?: unknown } | undefined;
      if (!message || message.error) throw new Error(`initialize failed: ${text.slice(0, 200)}`);
      const notified = await to.pool.request({
        path: session.path,
        method: 'POST',
        headers: {
          ...base,
          'mcp-session-id': upstreamId,
          ...(session.protocolVersion ? { 'mcp-protocol-version': session.protocolVersion } : {}),
        },
        body: session.initialized ?? DEFAULT_INITIALIZED,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      await notified.body.dump();
      if (notified.statusCode >= 300) throw new Error(`notifications/initialized answered ${notified.statusCode}`);
      const oldUpstreamId = session.upstreamId;
      this.sessions.rebind(session, to.name, upstreamId);
      // The new lane advertises something else: the client must list again (on its next GET stream).
      for (const method of listChangedMethods(from?.surface, to.surface)) session.notices.add(method);
      this.options.metrics.sessionMoves.labels(fromLane, to.name, 'ok').inc();
      this.options.logger.debug(
        { session: session.clientId, from: fromLane, to: to.name, ms: Math.round(performance.now() - started) },
        'session moved',
      );
      // Best effort: free the session on the lane it left (that lane may already be gone) — unless
      // that lane still waits for the client's answers (a forced move): those go there, and the
      // upstream session ends with its call (or with the lane). A call still answering there (its
      // POST open: a forced move after the client answered) finishes first: closing the upstream
      // session now would abort it and lose its result.
      const owed = [...session.leftBehind.values()].some((left) => left.upstreamId === oldUpstreamId);
      if (from && from !== to && !owed) {
        const close = () => void this.closeUpstream(from, session, oldUpstreamId);
        if (session.flight.posts > 0) session.afterPosts.push(close);
        else close();
      }
    } catch (error) {
      this.options.metrics.sessionMoves.labels(fromLane, to.name, 'failed').inc();
      this.options.logger.warn({ session: session.clientId, from: fromLane, to: to.name, err: error }, 'session move failed');
      throw new ProxyError('WVO_PROXY_SESSION_MOVE_FAILED', `moving session to lane ${to.name} failed: ${(error as Error).message}`, {
        subject: session.clientId,
        cause: error,
      });
    }
  }

  private async closeUpstream(target: Target, session: Session, upstreamId: string): Promise<void> {
    try {
      const response = await target.pool.request({
        path: session.path,
        method: 'DELETE',
        headers: {
          'mcp-session-id': upstreamId,
          host: session.host ?? target.host,
          ...(session.protocolVersion ? { 'mcp-protocol-version': session.protocolVersion } : {}),
        },
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      await response.body.dump();
    } catch {
      // the old lane may be stopped already; nothing to free
    }
  }
}
