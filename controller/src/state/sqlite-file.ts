import { closeSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { stateErrors } from './errors.js';

/** The 16 bytes every SQLite 3 database file starts with. */
export const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Files SQLite keeps beside a database; they belong to it and are never copied on their own. */
export const SQLITE_SIDE_SUFFIXES = ['-wal', '-shm', '-journal'] as const;

export type SqliteDatabase = Database.Database;

/** A WAL file starts with a 32-byte header; its salts (bytes 16-23) change at every WAL restart. */
export const WAL_HEADER_SIZE = 32;

/**
 * The first 32 bytes of a `-wal` file, or undefined when it is missing or shorter (a WAL that was
 * never written, or truncated by a checkpoint). Read without any SQLite lock: a torn read only
 * ever makes two reads differ, which the raw copy treats as a restart.
 */
export function readWalHeader(walPath: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(walPath, 'r');
    const head = Buffer.alloc(WAL_HEADER_SIZE);
    return readSync(fd, head, 0, head.length, 0) === head.length ? head : undefined;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** True when `path` is a regular file that starts with the SQLite 3 header. */
export function isSqliteFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(SQLITE_HEADER.length);
    const read = readSync(fd, head, 0, head.length, 0);
    return read === head.length && head.equals(SQLITE_HEADER);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Open an existing database read-only: the main file is never written. A WAL-mode database still
 * needs its `-shm`/`-wal` beside it (SQLite creates them if absent; better-sqlite3 has no URI
 * support, so `?immutable=1` is unavailable), but their presence changes no byte of the database.
 */
export function openReadOnly(path: string, role = 'database'): SqliteDatabase {
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw stateErrors.create('WVO_STATE_DB_MISSING', `${role} not found: ${path}`, {
      subject: path,
      hint: 'Check the path; the file must be an existing SQLite database.',
    });
  }
  if (!isFile || !isSqliteFile(path)) {
    throw stateErrors.create('WVO_STATE_NOT_SQLITE', `${role} is not a SQLite database: ${path}`, {
      subject: path,
      hint: 'Pass a SQLite 3 database file (it starts with "SQLite format 3").',
    });
  }
  return new Database(path, { readonly: true, fileMustExist: true, timeout: 5_000 });
}

/** Quote an identifier for SQL text. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
