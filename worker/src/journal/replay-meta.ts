import { z } from 'zod';
import { WorkerError } from '../errors.js';
import { ID_TABLES } from '../store/journal.js';
import { fieldPath } from '../tools/tool-result.js';

/** Where a replaying controller puts a journal entry on a tool call: `params._meta["wvo/replay"]`. */
export const REPLAY_META_KEY = 'wvo/replay';
/** The same entry for the flag admin endpoint (HTTP header, JSON). */
export const REPLAY_HEADER = 'wvo-replay';

const isoTime = z.iso.datetime({ offset: true });

const JournalRunSchema = z.object({
  argv: z.array(z.string()),
  status: z.string(),
  exit_code: z.number().int().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean(),
  duration_ms: z.number().int().nonnegative(),
  error: z.object({ code: z.literal('WVO_EXEC_SPAWN_FAILED'), message: z.string() }).optional(),
});

/**
 * A journal entry as a replay carries it. Extra keys (tool, args, status, ...) are allowed and
 * ignored, so a controller may send the entry exactly as `GET /journal` returned it.
 */
export const ReplayMeta = z.object({
  seq: z.number().int().positive(),
  at: isoTime,
  times: z.array(isoTime).optional(),
  ids: z.partialRecord(z.enum(ID_TABLES), z.array(z.number().int().positive())).optional(),
  runs: z.array(JournalRunSchema).optional(),
  /** The live answer's digest: the replayed answer's `_meta` then says whether it matches. */
  answer_sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable().optional(),
});
export type ReplayMeta = z.infer<typeof ReplayMeta>;

/** Parses the meta or throws WVO_REPLAY_INVALID naming the field (`_meta.wvo/replay.times[2]`). */
export function parseReplayMeta(value: unknown, where = `_meta.${REPLAY_META_KEY}`): ReplayMeta {
  const parsed = ReplayMeta.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? `${where}.${fieldPath(issue.path)}` : where;
  throw new WorkerError('WVO_REPLAY_INVALID', `${field}: ${issue?.message ?? 'invalid'}`, {
    subject: field,
    hint: 'Send the journal entry as GET /journal returned it: {seq, at, times, ids, runs, answer_sha256}.',
  });
}
