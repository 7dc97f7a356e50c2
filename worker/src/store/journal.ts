import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

/** Prepared once per connection: the append runs on every write call (bench/worker.ts measures it). */
const statements = new WeakMap<Db, Map<string, Statement>>();
function stmt(db: Db, sql: string): Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let prepared = cache.get(sql);
  if (!prepared) cache.set(sql, (prepared = db.prepare(sql)));
  return prepared;
}

/**
 * `open`: the call's first write committed, its answer not yet (dispatch runs its command between
 * its two transactions); `ok` / `error`: the answer (or the coded tool error) is final;
 * `failed`: the call broke after some of its writes committed, its answer is not reproducible.
 */
export const JOURNAL_STATUSES = ['open', 'ok', 'error', 'failed'] as const;
export type JournalStatus = (typeof JOURNAL_STATUSES)[number];

/** Tables whose generated ids a call records (and a replay forces), in insert order per table. */
export const ID_TABLES = ['dispatches', 'verifications', 'reports', 'critic_history', 'events'] as const;
export type IdTable = (typeof ID_TABLES)[number];
export type JournalIds = Partial<Record<IdTable, number[]>>;

/** One executor run as the call's answer carried it (replay hands it back instead of spawning). */
export interface JournalRun {
  readonly argv: readonly string[];
  readonly status: string;
  readonly exit_code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: boolean;
  readonly duration_ms: number;
  readonly error?: { readonly code: 'WVO_EXEC_SPAWN_FAILED'; readonly message: string };
}

export interface JournalEntry {
  readonly seq: number;
  readonly tool: string;
  readonly args: unknown;
  readonly status: JournalStatus;
  /** sha256 of the lane-neutral answer (journal/answer-digest.ts); null while open. */
  readonly answer_sha256: string | null;
  readonly error_code: string | null;
  /** The call's first clock reading (or when its entry was written, if it read none). */
  readonly at: string;
  /** Every clock reading of the call, in order. */
  readonly times: readonly string[];
  readonly ids: JournalIds;
  readonly runs: readonly JournalRun[];
}

interface EntryRow {
  seq: number;
  tool: string;
  args: string;
  status: JournalStatus;
  answer_sha256: string | null;
  error_code: string | null;
  at: string;
  times: string;
  ids: string;
  runs: string;
}

/** The last seq ever written (0 for none): what the next append follows. */
export function lastSeq(db: Db): number {
  return (stmt(db, 'SELECT COALESCE(MAX(seq), 0) AS n FROM journal').get() as { n: number }).n;
}

export interface EntryBody {
  readonly status: JournalStatus;
  readonly answer_sha256: string | null;
  readonly error_code: string | null;
  readonly times: readonly string[];
  readonly ids: JournalIds;
  readonly runs: readonly JournalRun[];
}

/**
 * Appends an entry (inside the call's write transaction): `open` when the call writes again later
 * (dispatch), else final at once. Live: the next seq (MAX + 1, safe because writes are IMMEDIATE
 * transactions). Replay: the journal's own seq, so the fork's journal says how far it replayed.
 */
export function appendEntry(db: Db, entry: { seq?: number; tool: string; args: unknown; at: string } & EntryBody): number {
  const result = stmt(
    db,
    'INSERT INTO journal (seq, tool, args, status, answer_sha256, error_code, at, times, ids, runs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(
    entry.seq ?? null,
    entry.tool,
    JSON.stringify(entry.args ?? {}),
    entry.status,
    entry.answer_sha256,
    entry.error_code,
    entry.at,
    JSON.stringify(entry.times),
    JSON.stringify(entry.ids),
    JSON.stringify(entry.runs),
  );
  return Number(result.lastInsertRowid);
}

/** Completes an entry appended `open` by an earlier transaction of the same call. */
export function closeEntry(db: Db, seq: number, entry: EntryBody): void {
  stmt(db, 'UPDATE journal SET status = ?, answer_sha256 = ?, error_code = ?, times = ?, ids = ?, runs = ? WHERE seq = ?').run(
    entry.status,
    entry.answer_sha256,
    entry.error_code,
    JSON.stringify(entry.times),
    JSON.stringify(entry.ids),
    JSON.stringify(entry.runs),
    seq,
  );
}

function toEntry(row: EntryRow): JournalEntry {
  return {
    seq: row.seq,
    tool: row.tool,
    args: JSON.parse(row.args) as unknown,
    status: row.status,
    answer_sha256: row.answer_sha256,
    error_code: row.error_code,
    at: row.at,
    times: JSON.parse(row.times) as string[],
    ids: JSON.parse(row.ids) as JournalIds,
    runs: JSON.parse(row.runs) as JournalRun[],
  };
}

export interface JournalHead {
  /** The last seq a reader may take: every entry up to it is final (the first open one blocks). */
  readonly head: number;
  /** The last seq written (open entries included). */
  readonly last_seq: number;
  /** The oldest seq still kept (null when empty); older ones were pruned. */
  readonly oldest: number | null;
  readonly open: ReadonlyArray<{ readonly seq: number; readonly tool: string; readonly at: string }>;
  readonly floor: number | null;
}

export function journalHead(db: Db): JournalHead {
  const bounds = db.prepare('SELECT MIN(seq) AS oldest, COALESCE(MAX(seq), 0) AS last FROM journal').get() as { oldest: number | null; last: number };
  const open = db.prepare("SELECT seq, tool, at FROM journal WHERE status = 'open' ORDER BY seq").all() as Array<{ seq: number; tool: string; at: string }>;
  const first = open[0];
  return { head: first ? first.seq - 1 : bounds.last, last_seq: bounds.last, oldest: bounds.oldest, open, floor: readFloor(db) };
}

/** Entries after `after`, up to `upTo`, in order. */
export function readEntries(db: Db, after: number, upTo: number, limit: number): JournalEntry[] {
  const rows = db.prepare('SELECT * FROM journal WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?').all(after, upTo, limit) as EntryRow[];
  return rows.map(toEntry);
}

export function readFloor(db: Db): number | null {
  const row = stmt(db, 'SELECT seq FROM journal_floor WHERE id = 1').get() as { seq: number } | undefined;
  return row ? row.seq : null;
}

/** `null` clears the floor (no soak running). */
export function writeFloor(db: Db, seq: number | null, at: string): void {
  if (seq === null) db.prepare('DELETE FROM journal_floor WHERE id = 1').run();
  else db.prepare('INSERT INTO journal_floor (id, seq, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at').run(seq, at);
}

/** Pure: the highest seq retention may delete (0 = nothing): keep the newest `retain`, never reach the floor. */
export function pruneCutoff(head: number, retain: number, floor: number | null): number {
  if (retain <= 0) return 0;
  const byRetention = head - retain;
  const cutoff = floor === null ? byRetention : Math.min(byRetention, floor - 1);
  return Math.max(0, cutoff);
}

/** Deletes what retention allows (inside the appending transaction); returns how many rows went. */
export function pruneJournal(db: Db, head: number, retain: number): number {
  const cutoff = pruneCutoff(head, retain, readFloor(db));
  if (cutoff === 0) return 0;
  return db.prepare('DELETE FROM journal WHERE seq <= ?').run(cutoff).changes;
}
