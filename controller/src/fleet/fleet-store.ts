import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { CONTROLLER_DB_FILE, judgeLease, migrateRoom, openControllerDb, type LeaseHolder, type RoomMigration } from '../promotion/index.js';
import { fleetErrors } from './errors.js';
import { fleetRecordSchema, type FleetRecord } from './fleet-record.js';

/**
 * Fleet promotions in the fleet controller's controller.db, beside the promotion room's tables
 * (own migrations table, so the rooms never clash). A record is written whole before the runner
 * acts on it (write-ahead, like a deployment), with a lease saying which controller drives it.
 */
const MIGRATIONS: readonly RoomMigration[] = [
  {
    version: 1,
    name: 'fleets, fleet_leases',
    sql: `
      CREATE TABLE fleets (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL CHECK (state IN ('running', 'promoted', 'failed', 'rolled_back')),
        record TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      -- At most one running fleet promotion.
      CREATE UNIQUE INDEX fleets_one_running ON fleets((1)) WHERE state = 'running';
      CREATE TABLE fleet_leases (
        fleet_id TEXT PRIMARY KEY REFERENCES fleets(id),
        owner TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        renewed_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
    `,
  },
];

interface LeaseRow {
  fleet_id: string;
  owner: string;
  pid: number;
  host: string;
  renewed_at: number;
  expires_at: number;
}

export class FleetStore {
  private readonly db: Database.Database;

  static open(stateRoot: string): FleetStore {
    mkdirSync(stateRoot, { recursive: true });
    return new FleetStore(join(stateRoot, CONTROLLER_DB_FILE));
  }

  constructor(readonly path: string) {
    this.db = openControllerDb(path);
    this.migrate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  schemaVersion(): number {
    return ((this.db.prepare('SELECT MAX(version) AS v FROM fleet_migrations').get() as { v: number | null }).v ?? 0);
  }

  private migrate(): void {
    const current = migrateRoom(this.db, 'fleet_migrations', MIGRATIONS);
    const latest = MIGRATIONS.at(-1)!.version;
    if (current > latest) {
      throw fleetErrors.create('WVO_FLEET_DB_NEWER', `${this.path} has fleet schema ${current}; this wvo knows ${latest}`, { subject: this.path, hint: 'run the newer wvo that wrote this database' });
    }
  }

  /** Insert a new fleet promotion with its driver's lease; WVO_FLEET_IN_PROGRESS while another runs. */
  create(record: FleetRecord, holder: LeaseHolder, ttlMs: number): FleetRecord {
    const parsed = fleetRecordSchema.parse(record);
    this.db.transaction(() => {
      const running = this.running();
      if (running) {
        throw fleetErrors.create('WVO_FLEET_IN_PROGRESS', `fleet promotion ${running.id} is running`, {
          subject: running.id,
          hint: '`wvo status --fleet`; if its controller died, `wvo resume --fleet`',
        });
      }
      this.db.prepare('INSERT INTO fleets (id, state, record, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(parsed.id, parsed.state, JSON.stringify(parsed), parsed.createdAt, parsed.updatedAt);
      this.writeLease(parsed.id, holder, parsed.createdAt, ttlMs);
    }).immediate();
    return parsed;
  }

  save(record: FleetRecord): FleetRecord {
    const parsed = fleetRecordSchema.parse(record);
    this.db.prepare('UPDATE fleets SET state = ?, record = ?, updated_at = ? WHERE id = ?').run(parsed.state, JSON.stringify(parsed), parsed.updatedAt, parsed.id);
    return parsed;
  }

  find(id: string): FleetRecord | undefined {
    const row = this.db.prepare('SELECT record FROM fleets WHERE id = ?').get(id) as { record: string } | undefined;
    return row ? fleetRecordSchema.parse(JSON.parse(row.record)) : undefined;
  }

  get(id: string): FleetRecord {
    const found = this.find(id);
    if (!found) throw fleetErrors.create('WVO_FLEET_NOT_FOUND', `no fleet promotion ${id}`, { subject: id, hint: '`wvo status --fleet` lists them' });
    return found;
  }

  running(): FleetRecord | undefined {
    const row = this.db.prepare(`SELECT record FROM fleets WHERE state = 'running' LIMIT 1`).get() as { record: string } | undefined;
    return row ? fleetRecordSchema.parse(JSON.parse(row.record)) : undefined;
  }

  list(limit = 20): FleetRecord[] {
    return (this.db.prepare('SELECT record FROM fleets ORDER BY seq DESC LIMIT ?').all(limit) as Array<{ record: string }>).map((r) => fleetRecordSchema.parse(JSON.parse(r.record)));
  }

  /** Take the lease on a fleet (judged as a deployment's is); WVO_FLEET_OWNED while a live driver holds it. */
  acquireLease(id: string, me: LeaseHolder, at: { now: number; ttlMs: number; isAlive: (pid: number) => boolean }): void {
    this.db.transaction(() => {
      const row = this.db.prepare('SELECT * FROM fleet_leases WHERE fleet_id = ?').get(id) as LeaseRow | undefined;
      const existing = row && { deploymentId: id, owner: row.owner, pid: row.pid, host: row.host, acquiredAt: row.renewed_at, renewedAt: row.renewed_at, expiresAt: row.expires_at };
      const judgement = judgeLease(existing, me, at.now, at.isAlive);
      if (!judgement.take) {
        throw fleetErrors.create('WVO_FLEET_OWNED', `fleet promotion ${id} is ${judgement.reason}`, {
          subject: id,
          hint: `its controller is alive: wait for it; if it is hung, stop that process (its lease then runs out)`,
          details: { pid: row!.pid, host: row!.host },
        });
      }
      this.writeLease(id, me, at.now, at.ttlMs);
    }).immediate();
  }

  renewLease(id: string, owner: string, at: { now: number; ttlMs: number }): boolean {
    return this.db.prepare('UPDATE fleet_leases SET renewed_at = ?, expires_at = ? WHERE fleet_id = ? AND owner = ?').run(at.now, at.now + at.ttlMs, id, owner).changes === 1;
  }

  releaseLease(id: string, owner: string): void {
    this.db.prepare('DELETE FROM fleet_leases WHERE fleet_id = ? AND owner = ?').run(id, owner);
  }

  private writeLease(id: string, me: LeaseHolder, now: number, ttlMs: number): void {
    this.db
      .prepare(
        `INSERT INTO fleet_leases (fleet_id, owner, pid, host, renewed_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(fleet_id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, host = excluded.host, renewed_at = excluded.renewed_at, expires_at = excluded.expires_at`,
      )
      .run(id, me.owner, me.pid, me.host, now, now + ttlMs);
  }
}
