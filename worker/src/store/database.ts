import { accessSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { WorkerError } from '../errors.js';

export type Db = Database.Database;

export const DB_FILE = 'orchestrator.db';

export function dbPathFor(stateRoot: string): string {
  return join(stateRoot, DB_FILE);
}

/** Creates the state root if needed and proves it is writable, or throws WVO_STATE_ROOT_UNWRITABLE. */
export function ensureWritableStateRoot(stateRoot: string): void {
  try {
    mkdirSync(stateRoot, { recursive: true });
    accessSync(stateRoot, constants.W_OK);
  } catch (error) {
    throw new WorkerError('WVO_STATE_ROOT_UNWRITABLE', `state root ${stateRoot} is not a writable directory`, {
      subject: stateRoot,
      hint: 'Point WVO_STATE_ROOT (or --state) at a writable directory, or fix its permissions.',
      cause: error,
      details: { reason: error instanceof Error ? error.message : String(error) },
    });
  }
}

function openFailed(path: string, error: unknown): WorkerError {
  return new WorkerError('WVO_DB_OPEN_FAILED', `cannot open database ${path}`, {
    subject: path,
    hint: 'Check that the file is a SQLite database and that the state root is writable.',
    cause: error,
    details: { reason: error instanceof Error ? error.message : String(error) },
  });
}

function applyConnectionPragmas(db: Db): void {
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
}

/** The live database: a file in WAL mode, shared safely with other processes (another lane). */
export function openLiveDatabase(stateRoot: string): Db {
  ensureWritableStateRoot(stateRoot);
  const path = dbPathFor(stateRoot);
  try {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    applyConnectionPragmas(db);
    return db;
  } catch (error) {
    throw openFailed(path, error);
  }
}

/**
 * DRY_RUN opens nothing for writing: the database (and its WAL, if any) is copied to a private
 * temp dir, loaded into memory from there, and the copy removed. SQLite never opens the given
 * files, so no `-shm`/`-wal` is created, no checkpoint runs on close, and migrations (if the
 * file is behind) apply to the in-memory copy only.
 */
export function openDryRunDatabase(stateRoot: string): Db {
  const path = dbPathFor(stateRoot);
  try {
    if (!existsSync(path)) {
      const db = new Database(':memory:');
      applyConnectionPragmas(db);
      return db;
    }
    const scratch = mkdtempSync(join(tmpdir(), 'wvo-dryrun-'));
    try {
      const copy = join(scratch, DB_FILE);
      copyFileSync(path, copy);
      if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`);
      const fileDb = new Database(copy);
      // Folds the copied WAL into the copy and marks it rollback-journal: an in-memory image
      // whose header still says WAL cannot be opened.
      fileDb.pragma('journal_mode = DELETE');
      const image = fileDb.serialize();
      fileDb.close();
      const db = new Database(image);
      applyConnectionPragmas(db);
      return db;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  } catch (error) {
    if (error instanceof WorkerError) throw error;
    throw openFailed(path, error);
  }
}
