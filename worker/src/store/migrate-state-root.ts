import { openLiveDatabase } from './database.js';
import { migrate, type MigrationResult } from './migrate.js';
import type { Migration } from './migrations/index.js';

/** `wvo-worker migrate`: brings the state root's database to the latest schema (WAL checkpointed). */
export function migrateStateRoot(stateRoot: string, options: { migrations?: readonly Migration[]; target?: number } = {}): MigrationResult {
  const db = openLiveDatabase(stateRoot);
  try {
    return migrate(db, options);
  } finally {
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  }
}
