import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../../common/src/logger.js';
import { registerAdminFlags } from './admin-flags.js';
import type { CallLedgers } from './journal/call-ledgers.js';
import { registerJournalRoutes } from './journal/journal-http.js';
import { jsonRpcError, parseJsonRpcBody, RPC, sendJsonRpcError } from './jsonrpc.js';
import type { WorkerMetrics } from './metrics.js';
import type { SessionTable } from './sessions.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Store } from './store/store.js';
import { workerEntry } from './version.js';

export const BODY_LIMIT_BYTES = 1024 * 1024;

export interface ServerDeps {
  readonly store: Store;
  readonly sessions: SessionTable;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  readonly createMcpServer: () => McpServer;
  readonly version: string;
  readonly buildId: string;
  /** True once shutdown began: no new sessions, /readyz 503. */
  readonly isDraining: () => boolean;
  /** Per-call journal state (admin flag writes are journaled and replayable too). */
  readonly ledgers: CallLedgers;
  /** WVO_JOURNAL_RETAIN as applied (shown by GET /journal/head). */
  readonly journalRetain: number;
  /** The worker's clock, ISO (the journal floor's updated_at). */
  readonly now: () => string;
}

/** Counts HTTP requests on /mcp that are being answered (POST streams), for graceful shutdown. */
export class OpenRequests {
  private count = 0;
  private waiters: Array<() => void> = [];
  get size(): number {
    return this.count;
  }
  add(reply: FastifyReply): void {
    this.count += 1;
    reply.raw.once('close', () => {
      this.count -= 1;
      if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
    });
  }
  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

function sessionHeader(request: FastifyRequest): string | undefined {
  const value = request.headers['mcp-session-id'];
  return Array.isArray(value) ? value[0] : value;
}

/** The two session rejections every MCP route shares (the spec's 400 and 404). */
function sessionMissing(reply: FastifyReply) {
  return sendJsonRpcError(
    reply,
    400,
    jsonRpcError(RPC.server, 'WVO_SESSION_MISSING', 'Bad Request: Mcp-Session-Id header is required', { field: 'mcp-session-id' }),
  );
}

function sessionUnknown(reply: FastifyReply) {
  return sendJsonRpcError(reply, 404, jsonRpcError(RPC.sessionNotFound, 'WVO_SESSION_UNKNOWN', 'Session not found', { field: 'mcp-session-id' }));
}

/**
 * fastify + MCP Streamable HTTP. We route sessions ourselves (one McpServer + transport per
 * session) so every rejection — missing or unknown session, bad JSON, oversize body — is a
 * JSON-RPC error whose data carries a WVO_* code; the SDK transport then handles the rest.
 */
export function buildServer(deps: ServerDeps, openRequests: OpenRequests): FastifyInstance {
  const app = Fastify({
    bodyLimit: BODY_LIMIT_BYTES,
    logger: false,
    // close() runs only after the drain waited for in-flight tool calls; what is left are idle
    // keep-alives and server-to-client SSE streams (clients reconnect), which would otherwise
    // hold the process past its stop timeout behind a proxy's connection pool.
    forceCloseConnections: true,
    return503OnClosing: true,
  });

  // Keep the body as text: we parse it, so a bad body gets our coded error, not fastify's.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error: { code?: string; statusCode?: number; message: string }, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendJsonRpcError(
        reply,
        413,
        jsonRpcError(RPC.invalidRequest, 'WVO_BODY_TOO_LARGE', `request body exceeds ${BODY_LIMIT_BYTES} bytes`, { field: 'body' }),
      );
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || error.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
      return sendJsonRpcError(
        reply,
        415,
        jsonRpcError(RPC.server, 'WVO_CONTENT_TYPE', 'Content-Type must be application/json', { field: 'content-type' }),
      );
    }
    deps.logger.error({ err: error, url: request.url }, 'request failed');
    return reply.code(error.statusCode && error.statusCode >= 400 ? error.statusCode : 500).send({
      code: 'WVO_INTERNAL',
      message: error.message,
    });
  });

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/readyz', async (_request, reply) => {
    if (deps.isDraining()) return reply.code(503).send({ ready: false, reason: 'draining (shutting down)', code: 'WVO_DRAINING' });
    const readiness = deps.store.readiness();
    return reply.code(readiness.ready ? 200 : 503).send(readiness);
  });

  app.get('/version', async () => ({
    version: deps.version,
    schema_version: deps.store.isClosed ? null : deps.store.schema().version,
    build_id: deps.buildId,
    dry_run: deps.store.dryRun,
    /** live | dry_run | sandbox: a controller checks this before trusting a shadow lane. */
    mode: deps.store.mode,
    entry: workerEntry(),
  }));

  app.get('/metrics', async (_request, reply) => {
    const body = await deps.metrics.registry.metrics();
    return reply.header('content-type', deps.metrics.registry.contentType).send(body);
  });

  app.post('/mcp', async (request, reply) => {
    const parsed = parseJsonRpcBody(typeof request.body === 'string' ? request.body : '');
    if (!parsed.ok) return sendJsonRpcError(reply, 400, parsed.error);
    const sessionId = sessionHeader(request);
    if (sessionId !== undefined) {
      const session = deps.sessions.get(sessionId);
      if (!session) return sessionUnknown(reply);
      openRequests.add(reply);
      reply.hijack();
      await session.transport.handleRequest(request.raw, headersWithFirstEvent(reply.raw), parsed.raw);
      return reply;
    }
    if (!parsed.initialize) return sessionMissing(reply);
    if (deps.isDraining()) {
      return sendJsonRpcError(
        reply,
        503,
        jsonRpcError(RPC.server, 'WVO_DRAINING', 'worker is shutting down; not accepting new sessions', { field: 'mcp-session-id' }),
      );
    }
    const { transport, dispose } = await deps.sessions.open(deps.createMcpServer);
    openRequests.add(reply);
    reply.hijack();
    try {
      await transport.handleRequest(request.raw, headersWithFirstEvent(reply.raw), parsed.raw);
    } finally {
      await dispose();
    }
    return reply;
  });

  const sessionRoute = async (request: FastifyRequest, reply: FastifyReply) => {
    const sessionId = sessionHeader(request);
    if (sessionId === undefined) return sessionMissing(reply);
    const session = deps.sessions.get(sessionId);
    if (!session) return sessionUnknown(reply);
    reply.hijack();
    await session.transport.handleRequest(request.raw, reply.raw);
    return reply;
  };
  app.get('/mcp', sessionRoute);
  app.delete('/mcp', sessionRoute);
  registerAdminFlags(app, deps);
  registerJournalRoutes(app, { store: deps.store, retain: deps.journalRetain, now: deps.now });

  return app;
}

/**
 * A POST's answer is an SSE stream whose first event is usually the result. The SDK's response
 * writer flushes the status line and headers on their own when the result is not ready within a
 * tick, so each tool call cost two writes (and two reads at the proxy and the client). Without
 * that flush Node sends the headers with the first event, in one write. GET streams (server
 * notifications) keep their immediate flush: a client waits for those headers to open the stream.
 */
function headersWithFirstEvent(res: ServerResponse): ServerResponse {
  res.flushHeaders = () => undefined;
  return res;
}
