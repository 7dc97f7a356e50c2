import type { Database } from 'better-sqlite3';
import { WorkerError } from '../errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

/**
 * `ahead_compatible`: the database is newer than the code, but every migration the code does not
 * know is `expand`, so the code still works on it (this is what makes a rollback safe).
 * `too_new`: a newer `contract` migration ran; this code must not serve the database.
 */
export const SCHEMA_STATES = ['current', 'behind', 'ahead_compatible', 'too_new'] as const;
export type SchemaState = (typeof SCHEMA_STATES)[number];

export interface SchemaStatus {
  /** PRAGMA user_version of the database. */
  readonly version: number;
  /** The highest version this code knows. */
  readonly expected: number;
  readonly state: SchemaState;
}

export interface MigrationResult {
  readonly from: number;
  readonly to: number;
  readonly applied: ReadonlyArray<Pick<Migration, 'version' | 'name' | 'kind'>>;
}

export function latestVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.at(-1)?.version ?? 0;
}

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Pure: how a database at `version` relates to code that knows `expected`. */
export function classifySchema(version: number, expected: number): SchemaState {
  if (version > expected) return 'too_new';
  return version < expected ? 'behind' : 'current';
}

/** Kinds of the migrations applied beyond `expected`, as recorded in schema_meta. */
function kindsBeyond(db: Database, expected: number, version: number): string[] {
  try {
    const rows = db.prepare('SELECT version, kind FROM schema_meta WHERE version > ? ORDER BY version').all(expected) as Array<{
      version: number;
      kind: string;
    }>;
    // A gap (a version with no record) is unknown, so treated as contract.
    return rows.length === version - expected ? rows.map((row) => row.kind) : ['unknown'];
  } catch {
    return ['unknown'];
  }
}

/** Pure: a newer database is still usable when everything beyond the code's version is expand. */
export function classifyAhead(kinds: readonly string[]): SchemaState {
  return kinds.length > 0 && kinds.every((kind) => kind === 'expand') ? 'ahead_compatible' : 'too_new';
}

export function schemaStatus(db: Database, migrations: readonly Migration[] = MIGRATIONS): SchemaStatus {
  const version = schemaVersion(db);
  const expected = latestVersion(migrations);
  const state = classifySchema(version, expected);
  if (state !== 'too_new') return { version, expected, state };
  return { version, expected, state: classifyAhead(kindsBeyond(db, expected, version)) };
}

/** Checks the list itself: versions 1..n in order, so a bad edit fails loudly at startup. */
export function assertMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new WorkerError('WVO_MIGRATION_FAILED', `migration list out of order at ${migration.name}`, {
        subject: `migrations[${index}]`,
        hint: 'Versions must be 1, 2, 3, ... in list order (worker/src/store/migrations/index.ts).',
      });
    }
  });
}

export function tooNewError(status: SchemaStatus): WorkerError {
  return new WorkerError(
    'WVO_SCHEMA_TOO_NEW',
    `database schema version ${status.version} is newer than this worker knows (${status.expected})`,
    {
      subject: 'orchestrator.db',
      hint: 'A newer worker migrated this state; run that version, or restore a snapshot taken before the upgrade.',
      details: { schema_version: status.version, expected: status.expected },
    },
  );
}

/**
 * Applies pending migrations, each in its own IMMEDIATE transaction that re-reads the version,
 * so two processes migrating the same file at once apply each step exactly once.
 * Refuses a database newer than the code (WVO_SCHEMA_TOO_NEW) without touching it.
 */
export function migrate(
  db: Database,
  options: { migrations?: readonly Migration[]; target?: number; now?: () => string } = {},
): MigrationResult {
  const migrations = options.migrations ?? MIGRATIONS;
  assertMigrationList(migrations);
  const now = options.now ?? (() => new Date().toISOString());
  const target = options.target ?? latestVersion(migrations);
  const initial = schemaStatus(db, migrations);
  if (initial.state === 'too_new') throw tooNewError(initial);
  if (initial.state === 'ahead_compatible') return { from: initial.version, to: initial.version, applied: [] };
  const applied: Array<Pick<Migration, 'version' | 'name' | 'kind'>> = [];
  for (const migration of migrations) {
    if (migration.version > target) break;
    const step = db.transaction(() => {
      if (schemaVersion(db) >= migration.version) return false;
      migration.up(db);
      db.prepare('INSERT INTO schema_meta (version, name, kind, applied_at) VALUES (?, ?, ?, ?)').run(
        migration.version,
        migration.name,
        migration.kind,
        now(),
      );
      db.pragma(`user_version = ${migration.version}`);
      return true;
    });
    try {
      if (step.immediate()) applied.push({ version: migration.version, name: migration.name, kind: migration.kind });
    } catch (error) {
      throw new WorkerError('WVO_MIGRATION_FAILED', `migration ${migration.version} (${migration.name}) failed`, {
        subject: `migration ${migration.version}`,
        hint: 'The database was left at the previous version; fix the migration or restore a snapshot.',
        cause: error,
        details: { reason: error instanceof Error ? error.message : String(error) },
      });
    }
  }
  return { from: initial.version, to: schemaVersion(db), applied };
}
