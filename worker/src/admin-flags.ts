import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from '../../common/src/logger.js';
import { adminGuard, ADMIN_TOKEN_ENV, refuseWith } from './admin-auth.js';
import { isWvoError } from '../../common/src/errors.js';
import { WorkerError } from './errors.js';
import type { CallLedgers } from './journal/call-ledgers.js';
import { parseReplayMeta, REPLAY_HEADER, REPLAY_META_KEY, type ReplayMeta } from './journal/replay-meta.js';
import { appendEvent } from './store/events.js';
import { DEFAULT_FLAGS, FLAG_VALUES, readSetting, resolveFlags, writeSetting, type FlagName } from './store/settings.js';
import type { Store } from './store/store.js';

export { ADMIN_TOKEN_ENV } from './admin-auth.js';

/** Codes of the flag admin endpoint (docs/errors.md, `## Deploy`; replay codes under `## Worker`). */
export const ADMIN_FLAG_ERRORS = {
  WVO_ADMIN_DISABLED: 404,
  WVO_ADMIN_UNAUTHORIZED: 401,
  WVO_ADMIN_DRY_RUN: 409,
  WVO_ADMIN_FLAG_INVALID: 400,
  WVO_ADMIN_UNAVAILABLE: 503,
  WVO_REPLAY_NOT_SANDBOX: 409,
  WVO_REPLAY_INVALID: 400,
  WVO_REPLAY_OUT_OF_ORDER: 409,
} as const;
type AdminFlagCode = keyof typeof ADMIN_FLAG_ERRORS;

/** The journal's name for a flag write through this endpoint (its args: `{flag, value}` as sent). */
export const ADMIN_FLAG_TOOL = 'admin.set_flag';

export interface AdminFlagsDeps {
  readonly store: Store;
  readonly logger: Logger;
  /** Journals the write (live) or replays a journal entry (sandbox, header `wvo-replay`). */
  readonly ledgers: CallLedgers;
}

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

function refuse(reply: FastifyReply, code: AdminFlagCode, message: string, subject?: string, details?: unknown) {
  return refuseWith(reply, ADMIN_FLAG_ERRORS[code], code, message, subject, details);
}

/** The `wvo-replay` header: only a sandbox honours it. */
function replayOf(header: string | string[] | undefined, deps: AdminFlagsDeps): ReplayMeta | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  if (text === undefined) return undefined;
  if (deps.store.mode !== 'sandbox') {
    throw new WorkerError('WVO_REPLAY_NOT_SANDBOX', `the ${REPLAY_HEADER} header is honoured only by a sandbox lane; this worker is ${deps.store.mode}`, {
      subject: REPLAY_HEADER,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WorkerError('WVO_REPLAY_INVALID', `${REPLAY_HEADER} is not JSON`, { subject: REPLAY_HEADER });
  }
  return parseReplayMeta(json, REPLAY_HEADER);
}

/**
 * `PUT /admin/flags/:name {value}`: the runtime flag switch promotion uses (DESIGN §5). Writes the
 * settings table and an `flag_changed` event in one transaction (journaled with them, as
 * `admin.set_flag`); every lane on the same database sees the new value at its next tool call.
 * Guarded by `WVO_ADMIN_TOKEN` (bearer, constant time).
 */
export function registerAdminFlags(app: FastifyInstance, deps: AdminFlagsDeps, token = process.env[ADMIN_TOKEN_ENV]?.trim()): void {
  const guard = adminGuard(token);
  app.put<{ Params: { name: string } }>('/admin/flags/:name', async (request, reply) => {
    const refused = guard(request, reply);
    if (refused) return refused;
    if (deps.store.dryRun) return refuse(reply, 'WVO_ADMIN_DRY_RUN', 'a DRY_RUN lane never changes its state; flags are refused');
    let replay: ReplayMeta | undefined;
    try {
      replay = replayOf(request.headers[REPLAY_HEADER], deps);
    } catch (error) {
      const coded = error as WorkerError;
      return refuse(reply, coded.code as AdminFlagCode, coded.message, coded.subject);
    }
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
    let outcome: { answer: Record<string, unknown>; meta: Record<string, unknown> | undefined };
    try {
      // In the call scope: a sandbox orders it with tool calls (its logical clock counts it too).
      outcome = await deps.store.callScope(async () => {
        const ledger = deps.ledgers.begin({ name: ADMIN_FLAG_TOOL, writes: true }, { flag: name, value: raw }, replay);
        const db = deps.store.db;
        const at = ledger.now();
        const answer = deps.store.tx(() => {
          ledger.assertNext(db);
          const before = readSetting(db, name) ?? null;
          if (before !== value) {
            writeSetting(db, name, value, at);
            const payload = { flag: name, from: before, to: value, via: 'admin' };
            ledger.tookId('events', appendEvent(db, { id: ledger.forcedId('events', db), at, kind: 'flag_changed', payload }));
          }
          const result = { ok: true, flag: name, value, previous: before, changed: before !== value, stored: resolveFlags(db)[name] };
          ledger.close(db, { status: 'ok', body: result });
          return result;
        });
        return { answer, meta: ledger.resultMeta() };
      });
    } catch (error) {
      if (isWvoError(error) && error.code in ADMIN_FLAG_ERRORS) {
        return refuse(reply, error.code as AdminFlagCode, error.message, error.subject, error.details);
      }
      throw error;
    }
    deps.logger.info({ flag: name, from: outcome.answer.previous, to: value }, 'flag set through the admin endpoint');
    return outcome.meta === undefined ? outcome.answer : { ...outcome.answer, _meta: { [REPLAY_META_KEY]: outcome.meta } };
  });
}
