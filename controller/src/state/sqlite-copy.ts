import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openReadOnly, readWalHeader } from './sqlite-file.js';
import { stateErrors } from './errors.js';

/**
 * How one live database is copied at one committed moment (DESIGN §4 step 6). Each method holds
 * one read transaction on the source for the whole copy and never writes to it.
 *
 * `raw` (default): a WAL-aware raw copy of the db file and then its -wal under that read
 * transaction; SQLite recovers the copy. Runs at about `cp` speed (bench/snapshot.ts).
 * `vacuum`: `VACUUM INTO` without fsyncs; the copy is compacted, keeps rowids, and is switched
 * back to WAL when the source is WAL.
 * `backup`: the online backup API in a single step. It fsyncs the copy and cannot be told
 * otherwise through better-sqlite3.
 */
export const SNAPSHOT_METHODS = ['raw', 'vacuum', 'backup'] as const;
export type SnapshotMethod = (typeof SNAPSHOT_METHODS)[number];

/**
 * What became of the source's -wal. `read-by-sqlite`: SQLite read it (vacuum, backup). For `raw`:
 * `none` (not WAL mode, or no WAL content at any read), `kept` (the copied WAL holds our moment
 * and maybe later whole commits; SQLite recovered it into the copy), `dropped` (the WAL may have
 * restarted during the copy, so the db file copy alone is the moment).
 */
export const WAL_HANDLING = ['read-by-sqlite', 'none', 'kept', 'dropped'] as const;
export type WalHandling = (typeof WAL_HANDLING)[number];

export interface SqliteCopy {
  readonly method: SnapshotMethod;
  readonly wal: WalHandling;
}

/**
 * Keep or drop the copied -wal, from the source's WAL header read before the copy, after it, and
 * the copy's own header. All three equal: no restart happened while we copied (the header is
 * rewritten only when a new WAL generation writes its first frame, with a new salt-1), so the WAL
 * was append-only and its copy holds every frame up to our read mark. Any difference or absence:
 * a restart may have happened. SQLite restarts the WAL only when every frame is backfilled, and
 * while we hold a read lock nothing past our mark can be backfilled, so a restart means our reader
 * reads the db file alone (read-lock slot 0), which then receives no backfill at all: the db file
 * copy by itself is our moment. Dropping is conservative (in slot 0 SQLite's salt and checksum
 * checks would also reject any mixed-generation frames); what matters is that it never happens
 * outside slot 0, where the header cannot change while we hold our read lock.
 */
export function walVerdict(
  before: Buffer | undefined,
  after: Buffer | undefined,
  copied: Buffer | undefined,
): Exclude<WalHandling, 'read-by-sqlite'> {
  if (before === undefined && after === undefined && copied === undefined) return 'none';
  if (before !== undefined && after !== undefined && copied !== undefined && before.equals(after) && before.equals(copied)) {
    return 'kept';
  }
  return 'dropped';
}

const COPY_CHUNK = 1 << 20;

/** Copy everything readable from `fd` into a new file (`dest` must not exist). */
function copyFromFd(fd: number, dest: string): void {
  const out = openSync(dest, 'wx');
  try {
    const buffer = Buffer.allocUnsafe(COPY_CHUNK);
    for (let position = 0; ; ) {
      const read = readSync(fd, buffer, 0, buffer.length, position);
      if (read === 0) return;
      for (let written = 0; written < read; ) written += writeSync(out, buffer, written, read - written);
      position += read;
    }
  } finally {
    closeSync(out);
  }
}

/** Copy `source` to `dest` if it exists; a missing source is not an error (the WAL may be gone). */
function copyIfPresent(source: string, dest: string): void {
  let fd: number;
  try {
    fd = openSync(source, 'r');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return;
    throw error;
  }
  try {
    copyFromFd(fd, dest);
  } finally {
    closeSync(fd);
  }
}

/**
 * The raw copy. Order matters:
 * 1. A read transaction on the source: its WAL read lock, held to the end, stops the checkpointer
 *    from backfilling any frame past our read mark (and anything at all when we read from slot 0),
 *    and stops any WAL restart unless we read from slot 0.
 * 2. The db file, then the -wal, with the WAL header read before and after (see walVerdict).
 *    The db file is read through an fd opened here and closed only after the connection: closing
 *    any fd on a file drops every POSIX lock this process holds on it, including SQLite's SHARED
 *    lock, which is what stops a closing writer from checkpointing everything and deleting the WAL
 *    (SQLite's howtocorrupt §2.2). The -wal and -shm carry no such lock; the -shm is never copied.
 * 3. The copy is opened read-write (it is ours): SQLite recovers the copied WAL up to its last
 *    valid commit (a torn trailing transaction fails its checksum and is dropped) and the WAL is
 *    checkpointed into the file, which keeps the source's journal mode.
 * A rollback-journal source is covered by step 1 alone: our SHARED lock keeps writers out of
 * the db file until we commit (writers wait for the copy, as with the other methods).
 */
function copyRaw(source: string, dest: string): SqliteCopy {
  const db = openReadOnly(source, 'state database');
  let dbFd: number | undefined;
  let wal: WalHandling = 'none';
  try {
    dbFd = openSync(source, 'r');
    db.exec('BEGIN');
    db.prepare('SELECT count(*) FROM sqlite_master').pluck().get();
    // Asked inside the transaction: no one can switch the journal mode while we hold it.
    const walMode = String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
    const sourceWal = `${source}-wal`;
    const before = walMode ? readWalHeader(sourceWal) : undefined;
    copyFromFd(dbFd, dest);
    if (walMode) {
      const copiedWal = `${dest}-wal`;
      copyIfPresent(sourceWal, copiedWal);
      wal = walVerdict(before, readWalHeader(sourceWal), readWalHeader(copiedWal));
      if (wal !== 'kept') rmSync(copiedWal, { force: true });
    }
    db.exec('COMMIT');
  } finally {
    db.close();
    if (dbFd !== undefined) closeSync(dbFd);
  }
  settleCopy(dest);
  return { method: 'raw', wal };
}

/** Fold a copied WAL into our copy; without fsyncs (the copy is disposable, as with cp). */
function settleCopy(dest: string): void {
  const copy = new Database(dest, { fileMustExist: true });
  try {
    copy.pragma('synchronous = OFF');
    const [result] = copy.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number; log: number; checkpointed: number }>;
    if (result !== undefined && result.busy !== 0) {
      throw stateErrors.create('WVO_SNAPSHOT_FAILED', `could not checkpoint the copied WAL into ${dest}`, {
        subject: dest,
        hint: 'Another process has the snapshot copy open; snapshot into a new directory.',
        details: { ...result },
      });
    }
  } finally {
    copy.close();
  }
}

/** Copy one database at one moment with `method`. */
export async function copySqliteConsistent(source: string, dest: string, method: SnapshotMethod): Promise<SqliteCopy> {
  if (method === 'raw') return copyRaw(source, dest);
  const db = openReadOnly(source, 'state database');
  try {
    if (method === 'vacuum') {
      // A connection setting, not a change to the source: the copy is written without fsyncs
      // (it is disposable: a crash mid-snapshot means taking a new one), which is what cp does.
      db.pragma('synchronous = OFF');
      db.prepare('VACUUM INTO ?').run(dest);
      // VACUUM INTO writes a rollback-journal file; keep the source's WAL mode so a lane opening
      // the copy does not rewrite its header (DRY_RUN lanes must not change a byte).
      if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal') {
        const copy = new Database(dest, { fileMustExist: true });
        try {
          copy.pragma('journal_mode = WAL');
        } finally {
          copy.close();
        }
      }
    } else {
      // The first step (0 pages) sizes the job; the second copies every page inside one read
      // transaction, so a concurrent writer can neither restart nor tear the copy.
      await db.backup(dest, { progress: () => 0x7fffffff });
    }
  } finally {
    db.close();
  }
  return { method, wal: 'read-by-sqlite' };
}
