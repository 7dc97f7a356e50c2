import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Env var holding the bearer token of the worker's admin endpoints; unset = they do not exist. */
export const ADMIN_TOKEN_ENV = 'WVO_ADMIN_TOKEN';

/** The coded refusal every admin endpoint answers with: `{ok: false, error: {code, message, subject?}}`. */
export function refuseWith(reply: FastifyReply, status: number, code: string, message: string, subject?: string, details?: unknown) {
  return reply.code(status).send({ ok: false, error: { code, message, ...(subject ? { subject } : {}), ...(details === undefined ? {} : { details }) } });
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The bearer check the flag and journal endpoints share (constant time). Returns the refusal it
 * sent, or undefined when the caller may go on.
 */
export function adminGuard(token: string | undefined) {
  const want = token ? digest(token) : undefined;
  return (request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined => {
    if (!want) return refuseWith(reply, 404, 'WVO_ADMIN_DISABLED', `no admin token configured (${ADMIN_TOKEN_ENV})`);
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
    if (!timingSafeEqual(digest(given), want) || given === '') {
      return refuseWith(reply, 401, 'WVO_ADMIN_UNAUTHORIZED', 'missing or wrong bearer token', 'authorization');
    }
    return undefined;
  };
}
