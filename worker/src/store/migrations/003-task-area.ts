import type { Migration } from './migration.js';

/** Tasks name the area they touch; SELECTIVE_TESTS runs only the checks tagged for it. */
export const m003TaskArea: Migration = {
  version: 3,
  name: 'task_area',
  kind: 'expand',
  up(db) {
    db.exec(`
      ALTER TABLE tasks ADD COLUMN area TEXT NOT NULL DEFAULT 'core';
      CREATE INDEX tasks_area ON tasks (area);
    `);
  },
};
