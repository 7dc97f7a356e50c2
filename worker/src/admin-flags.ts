import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { defineErrors } from '../../common/src/error-catalogue.js';
import type { Logger } from '../../common/src/logger.js';
import { DEFAULT_FLAGS, FLAG_VALUES, readSetting, resolveFlags, writeSetting, type FlagName } from './store/settings.js';
import type { Store } from './store/store.js';

/** Env var holding the bearer token of the flag admin endpoint; unset = the endpoint does not exist. */
export const ADMIN_TOKEN_ENV = 'WVO_ADMIN_TOKEN';

/** Codes of the flag admin endpoint (docs/errors.md, `## Deploy`). */
export const ADMIN_FLAG_ERRORS = defineErrors('worker', {
  WVO_ADMIN_DISABLED: { status: 404, message: 'The flag endpoint is off (no WVO_ADMIN_TOKEN)' },
  WVO_ADMIN_UNAUTHORIZED: { status: 401, message: 'Missing or wrong bearer token' },
  WVO_ADMIN_DRY_RUN: { status: 409, message: 'A DRY_RUN lane refuses flag writes' },
  WVO_ADMIN_FLAG_INVALID: { status: 400, message: 'Unknown flag or value' },
  WVO_ADMIN_UNAVAILABLE: { status: 503, message: 'The worker cannot write' },
});
type AdminFlagCode = keyof typeof ADMIN_FLAG_ERRORS.catalogue;

export interface AdminFlagsDeps {
  readonly store: Store;
  readonly logger: Logger;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `on`/`off` are the promotion plan's spellings: `off` is the flag's default, `on` its other value
 * (`PROMPT_MODE` compact, `SANDBOX_MODE` strict, `SELECTIVE_TESTS` on), so the controller needs
 * no copy of the worker's vocabulary.
 */
export function normaliseFlagValue(name: FlagName, value: string): string | undefined {
  const values = FLAG_VALUES[name] as readonly string[];
  if (values.includes(value)) return value;
  if (value === 'off') return DEFAULT_FLAGS[name];
  if (value === 'on') return values.find((v) => v !== DEFAULT_FLAGS[name]);
  return undefined;
}

function refuse(reply: FastifyReply, code: AdminFlagCode, message: string, subject?: string) {
  return reply.code(ADMIN_FLAG_ERRORS.catalogue[code].status).send({ ok: false, error: { code, message, ...(subject ? { subject } : {}) } });
}

/**
 * `PUT /admin/flags/:name {value}`: the runtime flag switch promotion uses (DESIGN §5). Writes the
 * settings table and an `flag_changed` event in one transaction; every lane on the same database
 * sees the new value at its next tool call. Guarded by `WVO_ADMIN_TOKEN` (bearer, constant time).
 */
export function registerAdminFlags(app: FastifyInstance, deps: AdminFlagsDeps, token = process.env[ADMIN_TOKEN_ENV]?.trim()): void {
  const want = token ? digest(token) : undefined;
  app.put<{ Params: { name: string } }>('/admin/flags/:name', async (request, reply) => {
    if (!want) return refuse(reply, 'WVO_ADMIN_DISABLED', `no admin token configured (${ADMIN_TOKEN_ENV})`);
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
    if (!timingSafeEqual(digest(given), want) || given === '') {
      return refuse(reply, 'WVO_ADMIN_UNAUTHORIZED', 'missing or wrong bearer token', 'authorization');
    }
    if (deps.store.dryRun) return refuse(reply, 'WVO_ADMIN_DRY_RUN', 'a DRY_RUN lane never changes its state; flags are refused');
    const name = request.params.name as FlagName;
    if (!(name in FLAG_VALUES)) {
      return refuse(reply, 'WVO_ADMIN_FLAG_INVALID', `unknown flag ${request.params.name} (known: ${Object.keys(FLAG_VALUES).join(', ')})`, 'name');
    }
    let body: unknown;
    try {
      body = JSON.parse(typeof request.body === 'string' ? request.body : '');
    } catch {
      return refuse(reply, 'WVO_ADMIN_FLAG_INVALID', 'body must be JSON {"value": "..."}', 'body');
    }
    const raw = (body as { value?: unknown } | null)?.value;
    const value = typeof raw === 'string' ? normaliseFlagValue(name, raw) : undefined;
    if (value === undefined) {
      const allowed = [...FLAG_VALUES[name], 'on', 'off'].join(', ');
      return refuse(reply, 'WVO_ADMIN_FLAG_INVALID', `value for ${name} must be one of ${allowed}`, 'value');
    }
    try {
      deps.store.assertUsable();
    } catch (error) {
      return refuse(reply, 'WVO_ADMIN_UNAVAILABLE', (error as Error).message);
    }
    const at = new Date().toISOString();
    const previous = deps.store.tx(() => {
      const before = readSetting(deps.store.db, name) ?? null;
      if (before !== value) {
        writeSetting(deps.store.db, name, value, at);
        deps.store.db
          .prepare('INSERT INTO events (at, kind, task_id, payload) VALUES (?, ?, NULL, ?)')
          .run(at, 'flag_changed', JSON.stringify({ flag: name, from: before, to: value, via: 'admin' }));
      }
      return before;
    });
    const effective = resolveFlags(deps.store.db)[name];
    deps.logger.info({ flag: name, from: previous, to: value }, 'flag set through the admin endpoint');
    return { ok: true, flag: name, value, previous, changed: previous !== value, stored: effective };
  });
}
