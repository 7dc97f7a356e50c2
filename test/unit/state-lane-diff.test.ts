import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffLaneStates } from '../../controller/src/state/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wvo-test-state-lane-diff-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A lane's database after the suite: the same seeded content, then what that lane's run wrote.
 * `stamp` is the lane's clock (what a replica differs in), `change` the lane's own behaviour.
 */
function laneDb(name: string, stamp: string, change?: (db: Database.Database) => void): string {
  const path = join(dir, `${name}.db`);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE tasks (id TEXT PRIMARY KEY, title TEXT NOT NULL, status TEXT NOT NULL, claimed_by TEXT, updated_at TEXT);
    CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, task_id TEXT, at TEXT);
    CREATE TABLE audit (nonce TEXT PRIMARY KEY, what TEXT);
  `);
  const insert = db.prepare('INSERT INTO tasks VALUES (?, ?, ?, ?, ?)');
  for (let i = 1; i <= 30; i++) insert.run(`T-${String(i).padStart(2, '0')}`, `task ${i}`, i % 4 === 0 ? 'done' : 'open', null, '2026-01-01 00:00:00');
  // The suite's writes: dispatch claims T-01 and T-02, each with an event; stamped by the lane's clock.
  db.prepare("UPDATE tasks SET status = 'in_progress', claimed_by = 'agent-a', updated_at = ? WHERE id IN ('T-01', 'T-02')").run(stamp);
  db.prepare("INSERT INTO events (kind, task_id, at) VALUES ('dispatched', 'T-01', ?), ('dispatched', 'T-02', ?)").run(stamp, stamp);
  db.prepare('INSERT INTO audit VALUES (?, ?)').run(`nonce-${name}`, 'run');
  change?.(db);
  db.close();
  return path;
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('diffLaneStates', () => {
  it('reports nothing for lanes that differ only where the replicas differ too', () => {
    const files = {
      baseline: laneDb('baseline', '2026-11-28 20:00:00'),
      replicas: [laneDb('replica', '2026-11-28 20:00:01')],
      candidate: laneDb('candidate', '2026-11-28 20:00:02'),
    };
    const diff = diffLaneStates(files, { database: 'orchestrator.db' });
    expect(diff.reported).toBe(0);
    expect(diff.groups.filter((g) => g.reported)).toEqual([]);
    expect(diff.noisy_columns).toEqual(['events.at', 'tasks.updated_at']);
    expect(diff.groups.map((g) => `${g.table}.${g.column ?? '*'} ${g.kind} ${g.verdict} ${g.rows}`)).toEqual([
      'audit.* only_in_baseline noise 1',
      'audit.* only_in_candidate noise 1',
      'events.at changed noise 2',
      'tasks.updated_at changed noise 2',
    ]);
    expect(diff).toMatchObject({ database: 'orchestrator.db', samples: 1, schema: { additions: [], removals: [], changes: [] } });
  });

  it('cancels noise column by column: a noisy column does not hide its neighbours', () => {
    const files = {
      baseline: laneDb('baseline', '2026-11-28 20:00:00'),
      replicas: [laneDb('replica', '2026-11-28 20:00:01'), laneDb('replica2', '2026-11-28 20:00:03')],
      candidate: laneDb('candidate', '2026-11-28 20:00:02', (db) => {
        // Dispatch ignores the caller's agent name, and a retry is recorded as failed.
        db.exec("UPDATE tasks SET claimed_by = 'wvo' WHERE claimed_by = 'agent-a'");
        db.exec("UPDATE tasks SET status = 'failed' WHERE id = 'T-03'");
        // The `dispatched` event is no longer written for T-02.
        db.exec("DELETE FROM events WHERE task_id = 'T-02'");
      }),
    };
    const before = [files.baseline, ...files.replicas, files.candidate].map(sha);
    const diff = diffLaneStates(files);
    const reported = diff.groups.filter((g) => g.reported);
    expect(reported.map((g) => `${g.table}.${g.column ?? '*'} ${g.kind} ${g.rows}`)).toEqual([
      'events.* only_in_baseline 1',
      'tasks.claimed_by changed 2',
      'tasks.status changed 1',
    ]);
    expect(reported.find((g) => g.column === 'claimed_by')!.examples).toEqual([
      { key: { id: 'T-01' }, baseline: 'agent-a', candidate: 'wvo' },
      { key: { id: 'T-02' }, baseline: 'agent-a', candidate: 'wvo' },
    ]);
    expect(reported.find((g) => g.table === 'events')!.examples).toEqual([
      { key: { id: 2 }, baseline: { kind: 'dispatched', task_id: 'T-02', at: '2026-11-28 20:00:00' } },
    ]);
    // tasks.updated_at is still noise: the same rows changed there on both replicas.
    expect(diff.groups.find((g) => g.column === 'updated_at')).toMatchObject({ verdict: 'noise', reported: false });
    expect(diff.reported).toBe(3);
    expect(diff.samples).toBe(2);
    expect(diff.database).toBe('baseline.db');
    // Read-only: not a byte of any lane's database changed.
    expect([files.baseline, ...files.replicas, files.candidate].map(sha)).toEqual(before);
  });

  it('reports every difference when there is no replica to learn noise from', () => {
    const diff = diffLaneStates({
      baseline: laneDb('baseline', '2026-11-28 20:00:00'),
      replicas: [],
      candidate: laneDb('candidate', '2026-11-28 20:00:02'),
    });
    expect(diff.groups.filter((g) => g.reported).map((g) => `${g.table}.${g.column ?? '*'} ${g.kind}`)).toEqual([
      'audit.* only_in_baseline',
      'audit.* only_in_candidate',
      'events.at changed',
      'tasks.updated_at changed',
    ]);
  });

  it('reports one missing event row as one row, although every later AUTOINCREMENT id shifted', () => {
    const stamp = '2026-11-28 20:00:00';
    const later = (db: Database.Database) => {
      const insert = db.prepare("INSERT INTO events (kind, task_id, at) VALUES ('verified', ?, ?)");
      for (let i = 3; i <= 9; i++) insert.run(`T-0${i}`, stamp);
    };
    const files = {
      baseline: laneDb('baseline', stamp, later),
      replicas: [laneDb('replica', stamp, later)],
      candidate: laneDb('candidate', stamp, (db) => {
        // This candidate's dispatch of T-01 writes no event: T-02's event and all later ones move up one id.
        db.exec("DELETE FROM events; DELETE FROM sqlite_sequence WHERE name = 'events'");
        db.prepare("INSERT INTO events (kind, task_id, at) VALUES ('dispatched', 'T-02', ?)").run(stamp);
        later(db);
        db.prepare('UPDATE audit SET nonce = ?').run('nonce-baseline');
      }),
    };
    const diff = diffLaneStates(files);
    const events = diff.groups.filter((g) => g.table === 'events' && g.reported);
    expect(events.map((g) => `${g.kind} ${g.rows}`)).toEqual(['only_in_baseline 1']);
    expect(events[0]!.examples[0]).toMatchObject({ key: { kind: 'dispatched', task_id: 'T-01' } });
    // The AUTOINCREMENT counter itself is one changed row of sqlite_sequence.
    expect(diff.groups.filter((g) => g.reported && g.table !== 'events').map((g) => `${g.table}.${g.column ?? '*'} ${g.rows}`)).toEqual([
      'sqlite_sequence.seq 1',
    ]);
  });

  it('lists schema additions separately and counts only removals and changes', () => {
    const stamp = '2026-11-28 20:00:00';
    const files = {
      baseline: laneDb('baseline', stamp, (db) => db.exec('CREATE TABLE legacy (id INTEGER PRIMARY KEY)')),
      replicas: [laneDb('replica', stamp, (db) => db.exec('CREATE TABLE legacy (id INTEGER PRIMARY KEY)'))],
      candidate: laneDb('candidate', stamp, (db) => {
        // An expand migration: a new column with a default, a new table and index; user_version 2.
        db.exec(`
          ALTER TABLE tasks ADD COLUMN rank INTEGER NOT NULL DEFAULT 0;
          CREATE TABLE executor_runs (fingerprint TEXT PRIMARY KEY, exit_code INTEGER);
          CREATE INDEX tasks_rank ON tasks(rank);
          PRAGMA user_version = 2;
        `);
      }),
    };
    const additions = diffLaneStates(files, { ignore: ['audit.*'] });
    expect(additions.schema.additions).toEqual([
      { type: 'table', name: 'executor_runs', candidate: 'CREATE TABLE executor_runs (fingerprint TEXT PRIMARY KEY, exit_code INTEGER)' },
      { type: 'index', name: 'tasks_rank', candidate: 'CREATE INDEX tasks_rank ON tasks(rank)' },
      { type: 'column', name: 'tasks', column: 'rank', candidate: 'rank INTEGER NOT NULL DEFAULT 0' },
    ]);
    expect(additions.schema.removals).toEqual([{ type: 'table', name: 'legacy', baseline: 'CREATE TABLE legacy (id INTEGER PRIMARY KEY)' }]);
    expect(additions.user_version).toEqual({ baseline: 0, candidate: 2 });
    // The dropped table is a regression; the additions are not; rows compare on shared columns.
    expect(additions.groups).toEqual([]);
    expect(additions.reported).toBe(1);
  });

  it('refuses a malformed ignore rule before opening any file', () => {
    expect(() => diffLaneStates({ baseline: '/nope', replicas: [], candidate: '/nope' }, { ignore: ['tasks'] })).toThrow(
      expect.objectContaining({ code: 'WVO_PARITY_IGNORE_INVALID' }),
    );
    expect(() => diffLaneStates({ baseline: join(dir, 'missing.db'), replicas: [], candidate: join(dir, 'missing.db') })).toThrow(
      expect.objectContaining({ code: 'WVO_STATE_DB_MISSING' }),
    );
  });
});
