import type { Migration } from './migration.js';

/** Per-review critic history, so reputation changes can be explained. */
export const m002CriticHistory: Migration = {
  version: 2,
  name: 'critic_history',
  kind: 'expand',
  up(db) {
    db.exec(`
      CREATE TABLE critic_history (
        id                INTEGER PRIMARY KEY AUTOINCREMENT,
        critic_id         TEXT NOT NULL REFERENCES critics (id),
        verification_id   INTEGER NOT NULL REFERENCES verifications (id),
        verdict           TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
        score             REAL NOT NULL,
        agreed            INTEGER NOT NULL,
        reputation_after  REAL NOT NULL,
        created_at        TEXT NOT NULL
      );
      CREATE INDEX critic_history_critic ON critic_history (critic_id);
    `);
  },
};
