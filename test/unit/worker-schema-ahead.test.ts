import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyAhead } from '../../worker/src/store/migrate.js';
import { MIGRATIONS, type Migration, type MigrationKind } from '../../worker/src/store/migrations/index.js';
import { Store } from '../../worker/src/store/store.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function extra(kind: MigrationKind): Migration {
  return { version: MIGRATIONS.length + 1, name: `extra_${kind}`, kind, up: (db) => db.exec(`CREATE TABLE extra_${kind} (id INTEGER)`) };
}

/** Migrate a fresh state with the newer list, then open it with today's code. */
function openedByOlderCode(kind: MigrationKind) {
  const stateRoot = mkdtempSync(join(tmpdir(), 'wvo-ahead-'));
  dirs.push(stateRoot);
  Store.open({ stateRoot, dryRun: false, migrations: [...MIGRATIONS, extra(kind)] }).close();
  const store = Store.open({ stateRoot, dryRun: false });
  try {
    return { schema: store.schema(), readiness: store.readiness() };
  } finally {
    store.close();
  }
}

describe('a database ahead of the code (rollback after an upgrade)', () => {
  it('is served when every newer migration is expand', () => {
    const { schema, readiness } = openedByOlderCode('expand');
    expect(schema.state).toBe('ahead_compatible');
    expect(readiness).toEqual({ ready: true });
  });

  it('is refused (WVO_SCHEMA_TOO_NEW) when a newer migration is contract', () => {
    const { schema, readiness } = openedByOlderCode('contract');
    expect(schema.state).toBe('too_new');
    expect(readiness).toMatchObject({ ready: false, code: 'WVO_SCHEMA_TOO_NEW' });
  });

  it('migration 004 (executor_runs) is expand: code that knows 001-003 serves and writes a migrated database', () => {
    const stateRoot = mkdtempSync(join(tmpdir(), 'wvo-ahead-'));
    dirs.push(stateRoot);
    const current = MIGRATIONS.find((migration) => migration.name === 'executor_runs');
    expect(current).toMatchObject({ version: 4, kind: 'expand' });
    Store.open({ stateRoot, dryRun: false }).close();
    const older = Store.open({ stateRoot, dryRun: false, migrations: MIGRATIONS.slice(0, 3) });
    try {
      expect(older.schema()).toMatchObject({ version: MIGRATIONS.length, expected: 3, state: 'ahead_compatible' });
      expect(older.readiness()).toEqual({ ready: true });
      older.tx(() =>
        older.db
          .prepare("INSERT INTO tasks (id, title, command_spec, created_at, updated_at) VALUES ('T-OLD', 'old code writes', '{}', 'x', 'x')")
          .run(),
      );
      expect(older.db.prepare("SELECT COUNT(*) AS n FROM executor_runs").get()).toEqual({ n: 0 });
    } finally {
      older.close();
    }
  });

  it('migration 005 (journal) is expand: code that knows 001-004 serves and writes a migrated database', () => {
    const stateRoot = mkdtempSync(join(tmpdir(), 'wvo-ahead-'));
    dirs.push(stateRoot);
    expect(MIGRATIONS.find((migration) => migration.name === 'journal')).toMatchObject({ version: 5, kind: 'expand' });
    Store.open({ stateRoot, dryRun: false }).close();
    const older = Store.open({ stateRoot, dryRun: false, migrations: MIGRATIONS.slice(0, 4) });
    try {
      expect(older.schema()).toMatchObject({ version: 5, expected: 4, state: 'ahead_compatible' });
      expect(older.readiness()).toEqual({ ready: true });
      older.tx(() =>
        older.db
          .prepare("INSERT INTO tasks (id, title, command_spec, created_at, updated_at) VALUES ('T-OLD', 'old code writes', '{}', 'x', 'x')")
          .run(),
      );
      // Older code writes without journaling: a soak reading this journal sees no entry for it.
      expect(older.db.prepare('SELECT COUNT(*) AS n FROM journal').get()).toEqual({ n: 0 });
    } finally {
      older.close();
    }
  });

  it('classifies unknown or missing kinds as too new', () => {
    expect(classifyAhead(['expand', 'expand'])).toBe('ahead_compatible');
    expect(classifyAhead(['expand', 'contract'])).toBe('too_new');
    expect(classifyAhead(['unknown'])).toBe('too_new');
    expect(classifyAhead([])).toBe('too_new');
  });
});
