import type { Migration } from './migration.js';

export const m001Initial: Migration = {
  version: 1,
  name: 'initial',
  kind: 'expand',
  up(db) {
    db.exec(`
      CREATE TABLE schema_meta (
        version    INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('expand', 'contract')),
        applied_at TEXT NOT NULL
      );
      CREATE TABLE tasks (
        id               TEXT PRIMARY KEY,
        title            TEXT NOT NULL,
        status           TEXT NOT NULL DEFAULT 'open'
                         CHECK (status IN ('open', 'in_progress', 'done', 'failed')),
        priority         INTEGER NOT NULL DEFAULT 0,
        dependencies     TEXT NOT NULL DEFAULT '[]',
        command_spec     TEXT NOT NULL,
        estimated_tokens INTEGER NOT NULL DEFAULT 1000,
        attempts         INTEGER NOT NULL DEFAULT 0,
        claimed_by       TEXT,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL
      );
      CREATE INDEX tasks_status_priority ON tasks (status, priority DESC, id);
      CREATE TABLE dispatches (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id      TEXT NOT NULL REFERENCES tasks (id),
        agent        TEXT NOT NULL,
        status       TEXT NOT NULL,
        argv         TEXT NOT NULL,
        exit_code    INTEGER,
        output       TEXT,
        prompt_mode  TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        duration_ms  INTEGER,
        started_at   TEXT NOT NULL,
        finished_at  TEXT
      );
      CREATE INDEX dispatches_task ON dispatches (task_id);
      CREATE TABLE verifications (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id     TEXT NOT NULL REFERENCES tasks (id),
        passed      INTEGER NOT NULL,
        checks      TEXT NOT NULL,
        critic_score REAL NOT NULL,
        created_at  TEXT NOT NULL
      );
      CREATE INDEX verifications_task ON verifications (task_id);
      CREATE TABLE reports (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id    TEXT NOT NULL REFERENCES tasks (id),
        agent      TEXT NOT NULL,
        outcome    TEXT NOT NULL,
        notes      TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
      );
      CREATE INDEX reports_task ON reports (task_id);
      CREATE TABLE critics (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        strictness REAL NOT NULL,
        reputation REAL NOT NULL DEFAULT 0.5,
        reviews    INTEGER NOT NULL DEFAULT 0,
        agreements INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE settings (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE events (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        at      TEXT NOT NULL,
        kind    TEXT NOT NULL,
        task_id TEXT,
        payload TEXT NOT NULL DEFAULT '{}'
      );
      -- The audit log is append-only: the database itself refuses edits.
      CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
      CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    `);
  },
};
