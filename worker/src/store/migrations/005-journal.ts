import type { Migration } from './migration.js';

/**
 * The call journal (issue 11): every state-changing call, in commit order, so a soak can replay
 * live traffic to a candidate and a baseline replica on forked state. `seq` is a plain INTEGER
 * PRIMARY KEY (no AUTOINCREMENT): an append rolled back with its call frees its number, so the
 * sequence has no gaps. New tables only: older code never reads them (expand, rollback-safe).
 */
export const m005Journal: Migration = {
  version: 5,
  name: 'journal',
  kind: 'expand',
  up(db) {
    db.exec(`
      CREATE TABLE journal (
        seq            INTEGER PRIMARY KEY,
        tool           TEXT NOT NULL,
        args           TEXT NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('open', 'ok', 'error', 'failed')),
        answer_sha256  TEXT,
        error_code     TEXT,
        at             TEXT NOT NULL,
        times          TEXT NOT NULL DEFAULT '[]',
        ids            TEXT NOT NULL DEFAULT '{}',
        runs           TEXT NOT NULL DEFAULT '[]'
      );
      CREATE INDEX journal_open ON journal (status) WHERE status = 'open';
      -- The lowest seq a running soak still needs: pruning never removes it or anything after it.
      CREATE TABLE journal_floor (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        seq        INTEGER NOT NULL CHECK (seq >= 0),
        updated_at TEXT NOT NULL
      );
    `);
  },
};
