import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { CONTROLLER_DB_FILE, migrateRoom, openControllerDb, type RoomMigration } from '../promotion/index.js';
import { SoakRecordSchema, type SoakAnswerDiff, type SoakCheckpoint, type SoakRecord } from './soak-record.js';

/** This room's tables in controller.db, versioned in its own ledger (as promotion's are). */
const MIGRATIONS: readonly RoomMigration[] = [
  {
    version: 1,
    name: 'soaks, soak_checkpoints, soak_answer_diffs',
    sql: `
      CREATE TABLE soaks (
        id TEXT PRIMARY KEY,
        upgrade_id TEXT NOT NULL,
        state TEXT NOT NULL,
        record TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        -- Its own column: the driver's saves never overwrite an operator's stop.
        stop_requested INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE soak_checkpoints (
        soak_id TEXT NOT NULL REFERENCES soaks(id),
        seq INTEGER NOT NULL,
        entry TEXT,
        at INTEGER NOT NULL,
        reported INTEGER NOT NULL,
        state TEXT NOT NULL,
        dir TEXT NOT NULL,
        PRIMARY KEY (soak_id, seq, at)
      );
      -- One row per differing call: a call compared again after a lane restart overwrites its row.
      CREATE TABLE soak_answer_diffs (
        soak_id TEXT NOT NULL REFERENCES soaks(id),
        seq INTEGER NOT NULL,
        tool TEXT NOT NULL,
        args TEXT NOT NULL,
        reported INTEGER NOT NULL,
        diffs TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (soak_id, seq)
      );
    `,
  },
];

interface Row {
  record: string;
  stop_requested: number;
}

function toRecord(row: Row): SoakRecord {
  return SoakRecordSchema.parse({ ...(JSON.parse(row.record) as object), stop_requested: row.stop_requested === 1 });
}

/** The soak's persisted progress: a controller that restarts reads it back and resumes. */
export class SoakStore {
  private readonly db: Database.Database;

  static open(stateRoot: string): SoakStore {
    mkdirSync(stateRoot, { recursive: true });
    return new SoakStore(join(stateRoot, CONTROLLER_DB_FILE));
  }

  constructor(readonly path: string) {
    this.db = openControllerDb(path);
    migrateRoom(this.db, 'soak_migrations', MIGRATIONS);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  save(record: SoakRecord): SoakRecord {
    const valid = SoakRecordSchema.parse(record);
    this.db
      .prepare(
        `INSERT INTO soaks (id, upgrade_id, state, record, started_at) VALUES (@id, @upgrade_id, @state, @record, @started_at)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, record = excluded.record`,
      )
      .run({ id: valid.id, upgrade_id: valid.upgrade_id, state: valid.state, record: JSON.stringify(valid), started_at: valid.started_at });
    return valid;
  }

  /** The record and what came with it, in one transaction (progress and diffs never disagree). */
  saveWith(record: SoakRecord, extra: { diffs?: readonly SoakAnswerDiff[]; checkpoint?: SoakCheckpoint }): SoakRecord {
    return this.db.transaction(() => {
      // The record first: its rows reference it.
      const saved = this.save(record);
      for (const diff of extra.diffs ?? []) {
        this.db
          .prepare(
            `INSERT INTO soak_answer_diffs (soak_id, seq, tool, args, reported, diffs, at) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (soak_id, seq) DO UPDATE SET reported = excluded.reported, diffs = excluded.diffs, at = excluded.at`,
          )
          .run(diff.soak_id, diff.seq, diff.tool, JSON.stringify(diff.args ?? {}), diff.reported, JSON.stringify(diff.diffs), diff.at);
      }
      const checkpoint = extra.checkpoint;
      if (checkpoint) {
        this.db
          .prepare('INSERT OR REPLACE INTO soak_checkpoints (soak_id, seq, entry, at, reported, state, dir) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(checkpoint.soak_id, checkpoint.seq, JSON.stringify(checkpoint.entry), checkpoint.at, checkpoint.reported, JSON.stringify(checkpoint.state), checkpoint.dir);
      }
      return saved;
    })();
  }

  find(id: string): SoakRecord | undefined {
    const row = this.db.prepare('SELECT record, stop_requested FROM soaks WHERE id = ?').get(id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Newest first. */
  list(limit = 20): SoakRecord[] {
    const rows = this.db.prepare('SELECT record, stop_requested FROM soaks ORDER BY started_at DESC, rowid DESC LIMIT ?').all(limit) as Row[];
    return rows.map(toRecord);
  }

  running(): SoakRecord | undefined {
    const row = this.db.prepare("SELECT record, stop_requested FROM soaks WHERE state = 'running' ORDER BY started_at DESC LIMIT 1").get() as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  forUpgrade(upgradeId: string): SoakRecord[] {
    const rows = this.db.prepare('SELECT record, stop_requested FROM soaks WHERE upgrade_id = ? ORDER BY started_at DESC').all(upgradeId) as Row[];
    return rows.map(toRecord);
  }

  /** The flag `wvo soak stop` sets; the driver reads it between pulls. */
  requestStop(id: string): void {
    this.db.prepare('UPDATE soaks SET stop_requested = 1 WHERE id = ?').run(id);
  }

  stopRequested(id: string): boolean {
    return (this.db.prepare('SELECT stop_requested FROM soaks WHERE id = ?').get(id) as { stop_requested: number } | undefined)?.stop_requested === 1;
  }

  checkpoints(id: string): SoakCheckpoint[] {
    const rows = this.db.prepare('SELECT * FROM soak_checkpoints WHERE soak_id = ? ORDER BY seq, at').all(id) as Array<Record<string, unknown>>;
    return rows.map((row) => ({
      soak_id: String(row.soak_id),
      seq: Number(row.seq),
      entry: row.entry === null ? null : (JSON.parse(String(row.entry)) as SoakCheckpoint['entry']),
      at: Number(row.at),
      reported: Number(row.reported),
      state: JSON.parse(String(row.state)) as unknown,
      dir: String(row.dir),
    }));
  }

  /** Calls whose answers differ with a reported verdict (each call once). */
  reportedAnswerDiffs(id: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM soak_answer_diffs WHERE soak_id = ? AND reported > 0').get(id) as { n: number }).n;
  }

  answerDiffs(id: string, limit = 200): SoakAnswerDiff[] {
    const rows = this.db.prepare('SELECT * FROM soak_answer_diffs WHERE soak_id = ? ORDER BY seq LIMIT ?').all(id, limit) as Array<Record<string, unknown>>;
    return rows.map((row) => ({
      soak_id: String(row.soak_id),
      seq: Number(row.seq),
      tool: String(row.tool),
      args: JSON.parse(String(row.args)) as unknown,
      reported: Number(row.reported),
      diffs: JSON.parse(String(row.diffs)) as unknown,
      at: Number(row.at),
    }));
  }
}
