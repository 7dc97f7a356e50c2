import Database from 'better-sqlite3';

/** One step of a room's schema in controller.db. */
export interface RoomMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Open controller.db as every room writing it does: WAL, and synchronous FULL because a record
 * must survive kill -9 before the effects it announces run; writers wait for each other.
 */
export function openControllerDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  return db;
}

/**
 * Apply a room's pending migrations, each in its own write transaction, recorded in the room's
 * own ledger table (so rooms sharing controller.db never clash). Returns the version found before.
 */
export function migrateRoom(db: Database.Database, ledger: string, migrations: readonly RoomMigration[]): number {
  db.exec(`CREATE TABLE IF NOT EXISTS ${ledger} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const current = (db.prepare(`SELECT COALESCE(MAX(version), 0) AS v FROM ${ledger}`).get() as { v: number }).v;
  for (const m of migrations.filter((m) => m.version > current)) {
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare(`INSERT INTO ${ledger} (version, name, applied_at) VALUES (?, ?, ?)`).run(m.version, m.name, Date.now());
    }).immediate();
  }
  return current;
}
