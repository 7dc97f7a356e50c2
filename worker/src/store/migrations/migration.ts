import type { Database } from 'better-sqlite3';

/**
 * `expand`: old code keeps working (adds tables, columns, indexes).
 * `contract`: old code breaks (drops or renames what it reads): not rollback-safe.
 */
export const MIGRATION_KINDS = ['expand', 'contract'] as const;
export type MigrationKind = (typeof MIGRATION_KINDS)[number];

export interface Migration {
  /** 1, 2, 3, ... in order; becomes PRAGMA user_version once applied. */
  readonly version: number;
  readonly name: string;
  readonly kind: MigrationKind;
  /** Runs inside the migration's transaction. */
  up(db: Database): void;
}
