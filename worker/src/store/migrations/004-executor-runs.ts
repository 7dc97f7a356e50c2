import type { Migration } from './migration.js';

/**
 * What the live executor ran and what came out, so a sandbox lane can replay it instead of
 * spawning. A new table only: older code never reads it (expand, rollback-safe).
 */
export const m004ExecutorRuns: Migration = {
  version: 4,
  name: 'executor_runs',
  kind: 'expand',
  up(db) {
    db.exec(`
      CREATE TABLE executor_runs (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        fingerprint    TEXT NOT NULL,
        argv           TEXT NOT NULL,
        cwd_kind       TEXT NOT NULL,
        status         TEXT NOT NULL,
        exit_code      INTEGER,
        duration_ms    INTEGER NOT NULL,
        stdout         TEXT NOT NULL,
        stderr         TEXT NOT NULL,
        truncated      INTEGER NOT NULL,
        output_sha256  TEXT NOT NULL,
        output_bytes   INTEGER NOT NULL,
        error          TEXT,
        recorded_at    TEXT NOT NULL
      );
      CREATE INDEX executor_runs_fingerprint ON executor_runs (fingerprint, id DESC);
    `);
  },
};
