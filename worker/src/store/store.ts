import type { Logger } from '../../../common/src/logger.js';
import { WorkerError } from '../errors.js';
import { resolveWorkerMode, type WorkerMode } from '../mode.js';
import { openDryRunDatabase, openLiveDatabase, dbPathFor, type Db } from './database.js';
import { migrate, schemaStatus, tooNewError, type MigrationResult, type SchemaStatus } from './migrate.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { logicalStart } from '../journal/logical-clock.js';
import { CommitSignal } from './commit-signal.js';

export interface StoreOptions {
  readonly stateRoot: string;
  readonly dryRun: boolean;
  /** WVO_SANDBOX: the state root is a private copy; calls commit to it, one at a time. */
  readonly sandbox?: boolean;
  readonly logger?: Logger;
  /** Tests pass an edited list; production uses MIGRATIONS. */
  readonly migrations?: readonly Migration[];
}

export type Readiness =
  | { readonly ready: true }
  | { readonly ready: false; readonly reason: string; readonly code: string };

/** Serialises async work: DRY_RUN holds one outer transaction per tool call; sandbox keeps calls in order. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/**
 * The worker's database. Live: a WAL file, migrated at open. DRY_RUN: an in-memory copy where
 * every tool call runs inside one transaction that is rolled back. Sandbox: the (private copy's)
 * file, opened like live; calls commit, serialised so ids and order follow the call sequence.
 */
export class Store {
  readonly db: Db;
  readonly dryRun: boolean;
  readonly sandbox: boolean;
  readonly path: string;
  readonly migration: MigrationResult | undefined;
  private closed = false;
  private readonly mutex = new Mutex();
  private readonly migrations: readonly Migration[];
  /** Woken after each committed write transaction (the journal's long-poll waits on it). */
  readonly commits = new CommitSignal();

  private constructor(db: Db, options: StoreOptions, migration: MigrationResult | undefined) {
    this.db = db;
    this.dryRun = options.dryRun;
    this.sandbox = options.sandbox ?? false;
    this.path = dbPathFor(options.stateRoot);
    this.migration = migration;
    this.migrations = options.migrations ?? MIGRATIONS;
  }

  /**
   * Opens and migrates. A schema newer than the code is not an error here: the store opens
   * without migrating and readiness() reports WVO_SCHEMA_TOO_NEW, so the lane is visibly unready.
   */
  static open(options: StoreOptions): Store {
    resolveWorkerMode(options);
    const db = options.dryRun ? openDryRunDatabase(options.stateRoot) : openLiveDatabase(options.stateRoot);
    try {
      const migrations = options.migrations ?? MIGRATIONS;
      const status = schemaStatus(db, migrations);
      let result: MigrationResult | undefined;
      if (status.state === 'too_new') {
        options.logger?.error({ code: 'WVO_SCHEMA_TOO_NEW', ...status }, 'database schema is newer than this worker');
      } else if (status.state === 'ahead_compatible') {
        options.logger?.warn({ ...status }, 'database schema is ahead of this worker by expand-only migrations; serving it');
      } else if (status.state === 'behind') {
        // A sandbox stamps applied_at from its copy (logical clock start), so two lanes agree.
        const stamp = options.sandbox ? new Date(logicalStart(db)).toISOString() : undefined;
        result = migrate(db, { migrations, ...(stamp ? { now: () => stamp } : {}) });
        options.logger?.info({ ...result, dry_run: options.dryRun, sandbox: options.sandbox ?? false }, 'database migrated');
      }
      return new Store(db, options, result);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  get mode(): WorkerMode {
    return this.dryRun ? 'dry_run' : this.sandbox ? 'sandbox' : 'live';
  }

  get isClosed(): boolean {
    return this.closed;
  }

  schema(): SchemaStatus {
    return schemaStatus(this.db, this.migrations);
  }

  readiness(): Readiness {
    if (this.closed) return { ready: false, reason: 'database closed', code: 'WVO_DB_CLOSED' };
    const status = this.schema();
    if (status.state === 'too_new') {
      return { ready: false, reason: tooNewError(status).message, code: 'WVO_SCHEMA_TOO_NEW' };
    }
    if (status.state === 'behind') {
      return {
        ready: false,
        reason: `database schema version ${status.version} is behind the expected ${status.expected}`,
        code: 'WVO_SCHEMA_BEHIND',
      };
    }
    return { ready: true };
  }

  /** Throws the coded reason the store cannot serve tool calls, if any. */
  assertUsable(): void {
    if (this.closed) throw new WorkerError('WVO_DB_CLOSED', 'the database is closed (worker shutting down)');
    const status = this.schema();
    if (status.state === 'too_new') throw tooNewError(status);
  }

  /** A write transaction (IMMEDIATE, so concurrent lanes on one file queue instead of failing). */
  tx<T>(fn: () => T): T {
    const result = this.db.transaction(fn).immediate();
    // A nested tx is a savepoint: only the outermost one commits (DRY_RUN never does: rolled back).
    if (!this.db.inTransaction) this.commits.committed();
    return result;
  }

  /**
   * The scope of one tool call. Live: just runs it. Sandbox: runs it alone (calls in order, so two
   * lanes given the same sequence write the same rows). DRY_RUN: calls are serialised and each runs
   * inside BEGIN ... ROLLBACK, so its tx() calls become savepoints that are undone at the end.
   */
  callScope<T>(fn: () => Promise<T>): Promise<T> {
    if (this.sandbox) return this.mutex.run(fn);
    if (!this.dryRun) return fn();
    return this.mutex.run(async () => {
      this.db.exec('BEGIN');
      try {
        return await fn();
      } finally {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
      }
    });
  }

  /** Live: checkpoint the WAL into the main file (TRUNCATE), then close. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.commits.close();
    if (!this.dryRun) {
      try {
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // Another connection may hold a read lock; SQLite checkpoints again on the last close.
      }
    }
    this.db.close();
  }
}
