import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { copyFile, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import Database from 'better-sqlite3';
import { systemClock, type Clock } from '../../../common/src/clock.js';
import { WvoError, isWvoError } from '../../../common/src/errors.js';
import { silentLogger, type Logger } from '../../../common/src/logger.js';
import { MANIFEST_FILE, SnapshotManifest, type SnapshotFile, type SqliteFacts } from './manifest.js';
import { compareOpenDatabases } from './parity.js';
import { excludedPaths } from './snapshot-exclude.js';
import { copySqliteConsistent, type SnapshotMethod, type SqliteCopy } from './sqlite-copy.js';
import { SQLITE_SIDE_SUFFIXES, isSqliteFile } from './sqlite-file.js';
import { stateErrors } from './errors.js';

/**
 * Consistent snapshots of a live state directory (DESIGN §4 step 6). Each SQLite database is
 * copied inside one read transaction (sqlite-copy.ts: a WAL-aware raw copy, VACUUM INTO, or the
 * online backup API), so the copy is the database at one moment while the writer keeps
 * committing; the copy is left as one file (no -wal, no -shm). Other files are copied as they
 * are. `manifest.json` is written last.
 */

/** The file operations a snapshot performs: a seam so tests can inject ENOSPC and EACCES. */
export interface SnapshotIo {
  copyFile(source: string, dest: string): Promise<void>;
  /** Resolves to what the copy did (or nothing, for a plain copy of a quiescent database). */
  copySqlite(source: string, dest: string, method: SnapshotMethod): Promise<SqliteCopy | void>;
  writeFile(path: string, data: string): Promise<void>;
}

export interface SnapshotOptions {
  readonly sourceRoot: string;
  readonly destRoot: string;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly method?: SnapshotMethod;
  /**
   * Files or folders (relative to the source root) left out of the snapshot; a folder takes
   * everything under it (snapshot-exclude.ts). Default: the upgrade lock.
   */
  readonly exclude?: readonly string[];
  readonly io?: Partial<SnapshotIo>;
  /** Run `PRAGMA integrity_check` on each copied database (default true). */
  readonly checkIntegrity?: boolean;
}

/** One copied database and what its copy did with the source's WAL. */
export interface SqliteCopyReport extends SqliteCopy {
  readonly path: string;
}

export interface SnapshotResult {
  readonly root: string;
  readonly manifest: SnapshotManifest;
  readonly duration_ms: number;
  /** Per database copied through `copySqlite` (empty for replicas made by plain file copy). */
  readonly sqlite: readonly SqliteCopyReport[];
}

export const DEFAULT_SNAPSHOT_EXCLUDE = ['upgrade.lock'] as const;

/** The raw copy: consistent (sqlite-copy.ts) and measured at about cp speed (bench/snapshot.ts). */
export const DEFAULT_SNAPSHOT_METHOD: SnapshotMethod = 'raw';

const defaultIo: SnapshotIo = {
  copyFile: (source, dest) => copyFile(source, dest),
  copySqlite: copySqliteConsistent,
  writeFile: (path, data) => writeFile(path, data),
};

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface SourceEntry {
  readonly relPath: string;
  readonly kind: SnapshotFile['kind'];
}

/** List regular files to copy, sorted; databases' side files and excluded paths are left out. */
async function listSource(root: string, exclude: readonly string[], logger: Logger): Promise<SourceEntry[]> {
  const isExcluded = excludedPaths(exclude);
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(root, path).split(sep).join('/');
      // An excluded folder is not walked at all: its files are not ours to read (or warn about).
      if (entry.isDirectory()) {
        if (!isExcluded(rel)) await walk(path);
      } else if (entry.isFile()) files.push(rel);
      else logger.warn({ path }, 'snapshot: skipping a non-regular file');
    }
  };
  await walk(root);
  const present = new Set(files);
  const isSideFile = (rel: string) =>
    SQLITE_SIDE_SUFFIXES.some((suffix) => rel.endsWith(suffix) && present.has(rel.slice(0, -suffix.length)));
  return files
    .filter((rel) => !isExcluded(rel) && rel !== MANIFEST_FILE && !isSideFile(rel))
    .sort()
    .map((relPath) => ({ relPath, kind: isSqliteFile(join(root, relPath)) ? 'sqlite' : 'file' }));
}

/**
 * Check a copied database and read its facts. Opened read-write because the copy is ours: closing
 * the last connection removes the -wal/-shm a WAL-mode file needs while open, leaving one file.
 */
function assertIntegrity(db: Database.Database, path: string): void {
  const problems = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
  if (problems.length !== 1 || problems[0] !== 'ok') {
    throw stateErrors.create('WVO_SNAPSHOT_VERIFY_FAILED', `snapshot copy failed integrity_check: ${path}`, {
      subject: path,
      hint: 'The source database may be damaged: run `PRAGMA integrity_check` on it.',
      details: { problems: problems.slice(0, 5) },
    });
  }
}

/** `PRAGMA integrity_check` on a copy taken with `checkIntegrity: false` (the soak runs it off the event loop). */
export function checkCopyIntegrity(path: string): void {
  const db = new Database(path, { fileMustExist: true, readonly: true });
  try {
    assertIntegrity(db, path);
  } finally {
    db.close();
  }
}

function verifySqliteCopy(path: string, checkIntegrity: boolean): SqliteFacts {
  const db = new Database(path, { fileMustExist: true });
  try {
    if (checkIntegrity) assertIntegrity(db, path);
    return {
      page_count: db.pragma('page_count', { simple: true }) as number,
      page_size: db.pragma('page_size', { simple: true }) as number,
      user_version: db.pragma('user_version', { simple: true }) as number,
      journal_mode: db.pragma('journal_mode', { simple: true }) as string,
    };
  } finally {
    db.close();
  }
}

const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
const UNWRITABLE_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EEXIST', 'SQLITE_READONLY', 'SQLITE_CANTOPEN']);

/** Turn an I/O failure while writing the snapshot into a coded error naming the destination. */
function destinationError(error: unknown, destRoot: string, file: string | undefined): WvoError {
  if (isWvoError(error)) return error;
  const code = String((error as { code?: unknown })?.code ?? '');
  const subject = file ?? destRoot;
  if (DISK_FULL_CODES.has(code) || code.startsWith('SQLITE_FULL')) {
    return stateErrors.create('WVO_SNAPSHOT_DISK_FULL', `disk full while writing the snapshot to ${destRoot}`, {
      subject,
      hint: 'Free space on the destination filesystem (or pick another with more room); the source was not touched.',
      cause: error,
    });
  }
  if (UNWRITABLE_CODES.has(code) || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN')) {
    return stateErrors.create('WVO_SNAPSHOT_DEST_UNWRITABLE', `snapshot destination is not writable: ${destRoot}`, {
      subject,
      hint: 'Choose a destination directory you can write to.',
      cause: error,
    });
  }
  return stateErrors.create('WVO_SNAPSHOT_FAILED', `snapshot failed: ${error instanceof Error ? error.message : String(error)}`, {
    subject,
    hint: 'See the cause in the log; the partial snapshot was removed and the source was not touched.',
    cause: error,
  });
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
}

/** Validate source and destination; returns whether the destination directory already existed. */
async function checkRoots(sourceRoot: string, destRoot: string): Promise<boolean> {
  const source = await stat(sourceRoot).catch(() => undefined);
  if (!source?.isDirectory()) {
    throw stateErrors.create('WVO_SNAPSHOT_SOURCE_MISSING', `state directory not found: ${sourceRoot}`, {
      subject: sourceRoot,
      hint: 'Point the snapshot at an existing state directory (WVO_STATE_ROOT).',
    });
  }
  if (isInside(destRoot, sourceRoot)) {
    throw stateErrors.create('WVO_SNAPSHOT_DEST_INVALID', `snapshot destination is inside the source: ${destRoot}`, {
      subject: destRoot,
      hint: 'Write snapshots outside the state directory they copy.',
    });
  }
  const dest = await stat(destRoot).catch(() => undefined);
  if (dest === undefined) return false;
  if (!dest.isDirectory() || (await readdir(destRoot)).length > 0) {
    throw stateErrors.create('WVO_SNAPSHOT_DEST_INVALID', `snapshot destination exists and is not an empty directory: ${destRoot}`, {
      subject: destRoot,
      hint: 'Use a new directory for each snapshot.',
    });
  }
  return true;
}

/** Remove what a failed snapshot wrote; keep a directory the caller made. */
async function removePartial(destRoot: string, existed: boolean, logger: Logger): Promise<void> {
  try {
    if (!existed) {
      await rm(destRoot, { recursive: true, force: true });
      return;
    }
    const entries = await readdir(destRoot).catch(() => [] as string[]);
    await Promise.all(entries.map((name) => rm(join(destRoot, name), { recursive: true, force: true })));
  } catch (error) {
    // Never mask the original failure; a destination we could not write may not be removable either.
    logger.warn({ dest: destRoot, err: error }, 'snapshot: could not remove the partial destination');
  }
}

/** Take one consistent snapshot of `sourceRoot` into `destRoot` (new or empty). */
export async function takeSnapshot(options: SnapshotOptions): Promise<SnapshotResult> {
  const logger = options.logger ?? silentLogger();
  const clock = options.clock ?? systemClock;
  const io: SnapshotIo = { ...defaultIo, ...options.io };
  const method = options.method ?? DEFAULT_SNAPSHOT_METHOD;
  const sourceRoot = resolve(options.sourceRoot);
  const destRoot = resolve(options.destRoot);
  const started = clock.now();

  const existed = await checkRoots(sourceRoot, destRoot);
  let current: string | undefined;
  try {
    await mkdir(destRoot, { recursive: true });
    const entries = await listSource(sourceRoot, options.exclude ?? DEFAULT_SNAPSHOT_EXCLUDE, logger);
    const files: SnapshotFile[] = [];
    const reports: SqliteCopyReport[] = [];
    for (const entry of entries) {
      const source = join(sourceRoot, entry.relPath);
      const dest = join(destRoot, entry.relPath);
      current = dest;
      await mkdir(dirname(dest), { recursive: true });
      let copied: SqliteCopy | void = undefined;
      try {
        if (entry.kind === 'sqlite') copied = await io.copySqlite(source, dest, method);
        else await io.copyFile(source, dest);
      } catch (error) {
        // A file that vanished between listing and copying (a temp file) is not part of the state.
        if ((error as { code?: string }).code === 'ENOENT' && !statSync(source, { throwIfNoEntry: false })) {
          logger.warn({ path: entry.relPath }, 'snapshot: file vanished while copying; skipped');
          continue;
        }
        throw error;
      }
      const sqlite = entry.kind === 'sqlite' ? verifySqliteCopy(dest, options.checkIntegrity ?? true) : undefined;
      const size = (await stat(dest)).size;
      files.push({ path: entry.relPath, kind: entry.kind, size, sha256: await sha256File(dest), ...(sqlite ? { sqlite } : {}) });
      if (copied) reports.push({ path: entry.relPath, ...copied });
      logger.debug({ path: entry.relPath, kind: entry.kind, size, wal: copied?.wal }, 'snapshot: copied');
    }
    const manifest = SnapshotManifest.parse({
      version: 1,
      taken_at: new Date(clock.now()).toISOString(),
      source_root: sourceRoot,
      method,
      files,
    });
    current = join(destRoot, MANIFEST_FILE);
    await io.writeFile(current, `${JSON.stringify(manifest, null, 2)}\n`);
    const duration = clock.now() - started;
    logger.info({ dest: destRoot, files: files.length, duration_ms: duration }, 'snapshot taken');
    return { root: destRoot, manifest, duration_ms: duration, sqlite: reports };
  } catch (error) {
    const coded = destinationError(error, destRoot, current);
    await removePartial(destRoot, existed, logger);
    logger.error({ code: coded.code, dest: destRoot }, 'snapshot failed; partial destination removed');
    throw coded;
  }
}

export interface SnapshotCopiesOptions extends Omit<SnapshotOptions, 'destRoot'> {
  /** One destination per shadow lane; all receive the same snapshot. */
  readonly destRoots: readonly string[];
}

export interface SnapshotCopiesResult {
  readonly copies: readonly SnapshotResult[];
  /** The one moment every copy holds (each copy's manifest is this one). */
  readonly manifest: SnapshotManifest;
  readonly duration_ms: number;
}

/**
 * N identical copies of one moment, one per shadow lane: snapshot the live source once, then
 * replicate that quiescent copy and prove each replica equal (sha256 and the parity checker).
 */
export async function snapshotCopies(options: SnapshotCopiesOptions): Promise<SnapshotCopiesResult> {
  const clock = options.clock ?? systemClock;
  const io: SnapshotIo = { ...defaultIo, ...options.io };
  const [first, ...rest] = options.destRoots;
  if (first === undefined) {
    throw stateErrors.create('WVO_SNAPSHOT_DEST_INVALID', 'snapshotCopies needs at least one destination', {
      subject: 'destRoots',
      hint: 'Pass one destination directory per shadow lane.',
    });
  }
  const started = clock.now();
  const original = await takeSnapshot({ ...options, destRoot: first });
  const copies: SnapshotResult[] = [original];
  try {
    for (const destRoot of rest) {
      const replica = await takeSnapshot({
        ...options,
        sourceRoot: original.root,
        destRoot,
        exclude: [],
        checkIntegrity: false,
        // The original is quiescent and closed: a plain file copy is exact and consistent.
        io: { ...options.io, copySqlite: (source, dest) => io.copyFile(source, dest) },
      });
      copies.push(replica);
      verifyReplica(original, replica);
      // Same moment, same manifest: the replica describes the original's snapshot.
      await io.writeFile(join(destRoot, MANIFEST_FILE), `${JSON.stringify(original.manifest, null, 2)}\n`);
      copies[copies.length - 1] = { ...replica, manifest: original.manifest };
    }
  } catch (error) {
    // All lanes or none: a shadow run on some lanes' copies would compare different moments.
    for (const destRoot of options.destRoots) await rm(destRoot, { recursive: true, force: true });
    throw destinationError(error, first, undefined);
  }
  return { copies, manifest: original.manifest, duration_ms: clock.now() - started };
}

/** A replica must match the original file for file, and every database must pass parity. */
function verifyReplica(original: SnapshotResult, replica: SnapshotResult): void {
  const describe = (files: readonly SnapshotFile[]) => files.map((f) => `${f.path}:${f.sha256}`).join('\n');
  if (describe(original.manifest.files) !== describe(replica.manifest.files)) {
    throw stateErrors.create('WVO_SNAPSHOT_VERIFY_FAILED', `snapshot replica differs from the original: ${replica.root}`, {
      subject: replica.root,
      hint: 'Check the destination filesystem; take the snapshot again.',
    });
  }
  for (const file of original.manifest.files.filter((f) => f.kind === 'sqlite')) {
    // Read-write on our own copies so closing leaves no -wal/-shm behind.
    const a = new Database(join(original.root, file.path), { fileMustExist: true });
    const b = new Database(join(replica.root, file.path), { fileMustExist: true });
    try {
      const report = compareOpenDatabases(a, b, { a: join(original.root, file.path), b: join(replica.root, file.path) });
      if (!report.equal) {
        throw stateErrors.create('WVO_SNAPSHOT_VERIFY_FAILED', `snapshot replica fails parity: ${file.path}`, {
          subject: join(replica.root, file.path),
          hint: 'Check the destination filesystem; take the snapshot again.',
          details: { tables: report.tables.filter((t) => !t.equal).map((t) => t.name) },
        });
      }
    } finally {
      a.close();
      b.close();
    }
  }
}
