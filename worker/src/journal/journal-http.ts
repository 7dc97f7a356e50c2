import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { adminGuard, ADMIN_TOKEN_ENV, refuseWith } from '../admin-auth.js';
import { journalHead, readEntries, writeFloor } from '../store/journal.js';
import type { Store } from '../store/store.js';
import { fieldPath } from '../tools/tool-result.js';

/** Codes of the journal endpoints (docs/errors.md, `## Worker`) and their HTTP statuses. */
export const JOURNAL_HTTP_ERRORS = {
  WVO_JOURNAL_PARAM_INVALID: 400,
  WVO_JOURNAL_AFTER_HEAD: 409,
  WVO_JOURNAL_PRUNED: 410,
  WVO_JOURNAL_UNAVAILABLE: 503,
  WVO_ADMIN_DRY_RUN: 409,
} as const;
type JournalCode = keyof typeof JOURNAL_HTTP_ERRORS;

export const JOURNAL_PAGE_MAX = 1_000;
/** The longest a `GET /journal?wait=` is held (ms). */
export const JOURNAL_WAIT_MAX = 30_000;

const count = z.string().regex(/^\d{1,15}$/, 'a non-negative integer').transform(Number);
const JournalQuery = z
  .object({
    after: count.default(0),
    limit: count.pipe(z.number().int().min(1).max(JOURNAL_PAGE_MAX)).default(100),
    wait: count.pipe(z.number().int().max(JOURNAL_WAIT_MAX)).default(0),
  })
  .strict();
const FloorBody = z.object({ seq: z.number().int().min(0).nullable() }).strict();

function refuse(reply: FastifyReply, code: JournalCode, message: string, subject?: string, details?: unknown) {
  return refuseWith(reply, JOURNAL_HTTP_ERRORS[code], code, message, subject, details);
}

function badParams(reply: FastifyReply, error: z.ZodError) {
  const issue = error.issues[0];
  const field = issue?.code === 'unrecognized_keys' ? (issue.keys[0] ?? '') : fieldPath(issue?.path ?? []);
  return refuse(reply, 'WVO_JOURNAL_PARAM_INVALID', `${field || '(root)'}: ${issue?.message ?? 'invalid'}`, field || '(root)');
}

export interface JournalHttpDeps {
  readonly store: Store;
  /** WVO_JOURNAL_RETAIN as this worker applies it (0 = all). */
  readonly retain: number;
  readonly now: () => string;
}

/**
 * The soak's read side (issue 11), behind the admin bearer token:
 * `GET /journal/head`, `GET /journal?after=SEQ&limit=N[&wait=MS]` (entries after SEQ in order, only up to
 * the head: an entry still open holds back the ones after it; with `wait`, an empty page is held
 * until a commit brings one, at most MS), `PUT /journal/floor {seq}` (retention
 * never prunes seq >= floor; null clears it).
 */
export function registerJournalRoutes(app: FastifyInstance, deps: JournalHttpDeps, token = process.env[ADMIN_TOKEN_ENV]?.trim()): void {
  const guard = adminGuard(token);
  // A held long-poll answers (empty) when the server closes, instead of holding the close up.
  app.addHook('preClose', async () => deps.store.commits.close());
  const usable = (reply: FastifyReply) => {
    if (deps.store.isClosed) return refuse(reply, 'WVO_JOURNAL_UNAVAILABLE', 'the database is closed (worker shutting down)');
    return undefined;
  };

  app.get('/journal/head', async (request, reply) => {
    const refused = guard(request, reply) ?? usable(reply);
    if (refused) return refused;
    const head = await deps.store.callScope(async () => journalHead(deps.store.db));
    return { ...head, retain: deps.retain, mode: deps.store.mode };
  });

  app.get('/journal', async (request, reply) => {
    const refused = guard(request, reply) ?? usable(reply);
    if (refused) return refused;
    const parsed = JournalQuery.safeParse(request.query ?? {});
    if (!parsed.success) return badParams(reply, parsed.error);
    const { after, limit, wait } = parsed.data;
    const db = deps.store.db;
    // One read transaction: head and entries from the same moment.
    // In the call scope, so a DRY_RUN lane never shows a call's uncommitted writes.
    const read = () =>
      deps.store.callScope(async () =>
        db.transaction(() => {
          const head = journalHead(db);
          if (after > head.last_seq) return { error: 'after_head' as const, head };
          if (head.oldest !== null && after < head.oldest - 1) return { error: 'pruned' as const, head };
          return { head, entries: readEntries(db, after, head.head, limit) };
        })(),
      );
    let page = await read();
    // Long-poll: nothing after `after` yet, so hold the request until a commit (which may append
    // or close an entry) or the deadline; a commit that moved no head waits on.
    const started = Date.now();
    const deadline = started + wait;
    while (!page.error && page.entries.length === 0 && Date.now() < deadline) {
      if (!(await deps.store.commits.next(deadline - Date.now()))) break;
      if (deps.store.isClosed) return usable(reply);
      page = await read();
    }
    if (page.error === 'after_head') {
      return refuse(reply, 'WVO_JOURNAL_AFTER_HEAD', `after=${after} is beyond the journal's last entry ${page.head.last_seq}`, 'after', {
        last_seq: page.head.last_seq,
        hint: 'The journal this reader followed is not this one (restored or replaced state?): fork again.',
      });
    }
    if (page.error === 'pruned') {
      return refuse(reply, 'WVO_JOURNAL_PRUNED', `entries after ${after} were pruned; the oldest kept is ${page.head.oldest}`, 'after', {
        oldest: page.head.oldest,
        hint: 'Set PUT /journal/floor while a soak runs, or raise WVO_JOURNAL_RETAIN; this soak must fork again.',
      });
    }
    const entries = page.entries ?? [];
    // `waited_ms` tells a reader this worker honours `wait` (an older one answers at once without it).
    return { after, head: page.head.head, last_seq: page.head.last_seq, entries, next_after: entries.at(-1)?.seq ?? after, waited_ms: Date.now() - started };
  });

  app.put('/journal/floor', async (request, reply) => {
    const refused = guard(request, reply) ?? usable(reply);
    if (refused) return refused;
    if (deps.store.dryRun) return refuse(reply, 'WVO_ADMIN_DRY_RUN', 'a DRY_RUN lane never changes its state; the floor is refused');
    let json: unknown;
    try {
      json = JSON.parse(typeof request.body === 'string' ? request.body : '');
    } catch {
      return refuse(reply, 'WVO_JOURNAL_PARAM_INVALID', 'body must be JSON {"seq": N | null}', 'body');
    }
    const parsed = FloorBody.safeParse(json);
    if (!parsed.success) return badParams(reply, parsed.error);
    deps.store.tx(() => writeFloor(deps.store.db, parsed.data.seq, deps.now()));
    return { ok: true, floor: parsed.data.seq };
  });
}
