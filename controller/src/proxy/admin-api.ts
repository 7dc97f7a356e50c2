import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isWvoError, toErrorJson } from '../../../common/src/errors.js';
import { ProxyError } from './errors.js';
import type { ProxyMetrics } from './metrics.js';
import type { Service } from './service.js';
import { SessionTable } from './session-table.js';

// `health`'s syntax is checked by the lane rules (WVO_PROXY_HEALTH_INVALID naming `health`), not here.
const RegisterBody = z.object({ name: z.string(), url: z.string(), health: z.string().optional() }).strict();
const SwitchBody = z.object({ lane: z.string(), rollback: z.boolean().optional() }).strict();
const DrainBody = z.object({ lane: z.string(), timeout_ms: z.number().int().min(0).optional() }).strict();
// The weight's range is checked by the canary rules (WVO_PROXY_WEIGHT_INVALID), not here.
const WeightsBody = z.object({ candidate: z.string(), weight: z.number() }).strict();
const ClearWeightsBody = z.object({ rollback: z.boolean().optional() }).strict();

export interface AdminApiOptions {
  token: string;
  service: Service;
  sessions: SessionTable;
  metrics: ProxyMetrics;
  drainTimeoutMs: number;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ProxyError('WVO_PROXY_BAD_REQUEST', `${issue?.path.join('.') || 'body'}: ${issue?.message}`, {
      subject: issue?.path.join('.') || 'body',
    });
  }
  return result.data;
}

/**
 * The admin API: bearer token on every route but `/healthz`; a request without the right token
 * gets 401 and changes nothing. Listens on loopback or a unix socket (the caller decides where).
 */
export function buildAdminApi(options: AdminApiOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  const expected = digest(options.token);
  const { service, sessions, metrics } = options;

  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/healthz') return;
    const auth = request.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
    if (!timingSafeEqual(digest(token), expected)) {
      const error = new ProxyError('WVO_PROXY_UNAUTHORIZED', 'missing or wrong bearer token', { hint: 'send Authorization: Bearer <token>' });
      return reply.code(401).header('www-authenticate', 'Bearer').send({ ok: false, error: error.toJSON() });
    }
  });

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof ProxyError) return reply.code(error.status).send({ ok: false, error: error.toJSON() });
    if (isWvoError(error)) return reply.code(500).send({ ok: false, error: error.toJSON() });
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status < 500) {
      return reply.code(status).send({ ok: false, error: { code: 'WVO_PROXY_BAD_REQUEST', message: (error as Error).message } });
    }
    return reply.code(500).send({ ok: false, error: toErrorJson(error) });
  });

  const lanesWithSessions = () => {
    const counts = sessions.countByLane();
    return service.lanes().map((lane) => ({ ...lane, sessions: counts.get(lane.name) ?? 0 }));
  };

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/health', async () => {
    const active = service.activeTarget();
    return {
      ok: active?.healthy ?? false,
      active: service.active,
      active_healthy: active?.healthy ?? false,
      sessions: sessions.size,
      last_switch: service.lastSwitch ?? null,
      canary: service.canary,
    };
  });

  app.get('/lanes', async () => ({
    active: service.active,
    canary: service.canary,
    last_switch: service.lastSwitch ?? null,
    lanes: lanesWithSessions(),
  }));

  app.post('/lanes', async (request) => {
    const body = parse(RegisterBody, request.body);
    return { ok: true, lane: await service.register(body) };
  });

  app.post('/switch', async (request) => {
    const body = parse(SwitchBody, request.body);
    return { ok: true, ...(await service.switchTo({ lane: body.lane, ...(body.rollback ? { rollback: true } : {}) })) };
  });

  app.get('/weights', async () => ({ canary: service.canary }));

  app.post('/weights', async (request) => {
    const body = parse(WeightsBody, request.body);
    return { ok: true, ...(await service.setWeights(body)) };
  });

  app.post('/weights/clear', async (request) => {
    const body = parse(ClearWeightsBody, request.body);
    return { ok: true, ...(await service.clearWeights(body.rollback ?? false)) };
  });

  app.post('/drain', async (request) => {
    const body = parse(DrainBody, request.body);
    return { ok: true, lane: await service.drain(body.lane, body.timeout_ms ?? options.drainTimeoutMs) };
  });

  app.get('/sessions', async () => ({ count: sessions.size, sessions: sessions.list().map(SessionTable.view) }));

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.text();
  });

  return app;
}
