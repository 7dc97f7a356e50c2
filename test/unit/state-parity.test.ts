import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareDatabases, parseIgnoreRules } from '../../controller/src/state/index.js';
import { compareCells } from '../../controller/src/state/parity.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wvo-test-state-parity-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const SCHEMA = `
  CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL, status TEXT, updated_at TEXT);
  CREATE TABLE events (kind TEXT, body BLOB);
  CREATE TABLE pairs (a TEXT, b INTEGER, note TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
  CREATE INDEX tasks_status ON tasks(status);
`;

/** A small state DB; `change` runs on it after the common content is in. */
function makeDb(name: string, change?: (db: Database.Database) => void, wal = true): string {
  const path = join(dir, name);
  const db = new Database(path);
  if (wal) db.pragma('journal_mode = WAL');
  db.exec(SCHEMA);
  const insert = db.prepare('INSERT INTO tasks (id, title, status, updated_at) VALUES (?, ?, ?, ?)');
  for (let i = 1; i <= 200; i += 1) insert.run(i, `task ${i}`, i % 3 === 0 ? 'done' : 'open', `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`);
  db.prepare('INSERT INTO events VALUES (?, ?)').run('created', Buffer.from([1, 2, 3]));
  db.prepare('INSERT INTO events VALUES (?, ?)').run('created', Buffer.from([1, 2, 3]));
  db.prepare('INSERT INTO pairs VALUES (?, ?, ?)').run('x', 1, 'first');
  db.prepare('INSERT INTO pairs VALUES (?, ?, ?)').run('é', 2, 'accent');
  change?.(db);
  db.close();
  return path;
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('compareDatabases', () => {
  it('reports equal databases as equal, with matching hashes and counts', () => {
    const a = makeDb('a.db');
    const b = makeDb('b.db', undefined, false); // journal mode is not content
    const report = compareDatabases(a, b);
    expect(report.equal).toBe(true);
    expect(report.schema.equal).toBe(true);
    expect(report.tables.map((t) => t.name)).toEqual(['events', 'pairs', 'tasks']);
    const tasks = report.tables.find((t) => t.name === 'tasks')!;
    expect(tasks.rows).toEqual({ a: 200, b: 200 });
    expect(tasks.hash.a).toBe(tasks.hash.b);
    expect(tasks.key).toEqual(['id']);
    expect(report.tables.find((t) => t.name === 'events')!.key).toEqual([]);
  });

  it('finds row-count differences with the first rows only in one side', () => {
    const a = makeDb('a.db');
    const b = makeDb('b.db', (db) => db.exec(`DELETE FROM tasks WHERE id IN (17, 150); INSERT INTO tasks VALUES (500, 'new', 'open', 't')`));
    const report = compareDatabases(a, b);
    expect(report.equal).toBe(false);
    const tasks = report.tables.find((t) => t.name === 'tasks')!;
    expect(tasks.rows).toEqual({ a: 200, b: 199 });
    expect(tasks.differing_rows).toBe(3);
    expect(tasks.differences).toEqual([
      { kind: 'only_in_a', key: { id: 17 }, a: { title: 'task 17', status: 'open', updated_at: '2026-01-01T00:00:17Z' } },
      { kind: 'only_in_a', key: { id: 150 }, a: expect.objectContaining({ title: 'task 150' }) },
      { kind: 'only_in_b', key: { id: 500 }, b: { title: 'new', status: 'open', updated_at: 't' } },
    ]);
    expect(report.tables.filter((t) => !t.equal).map((t) => t.name)).toEqual(['tasks']);
  });

  it('finds content differences by primary key, naming the changed columns', () => {
    const a = makeDb('a.db');
    const b = makeDb('b.db', (db) => {
      db.exec(`UPDATE tasks SET status = 'blocked' WHERE id = 42`);
      db.exec(`UPDATE pairs SET note = 'changed' WHERE a = 'é'`);
    });
    const report = compareDatabases(a, b);
    const tasks = report.tables.find((t) => t.name === 'tasks')!;
    expect(tasks.rows).toEqual({ a: 200, b: 200 });
    expect(tasks.hash.a).not.toBe(tasks.hash.b);
    expect(tasks.differences).toEqual([
      {
        kind: 'changed',
        key: { id: 42 },
        a: { title: 'task 42', status: 'done', updated_at: expect.any(String) },
        b: { title: 'task 42', status: 'blocked', updated_at: expect.any(String) },
        columns: ['status'],
      },
    ]);
    const pairs = report.tables.find((t) => t.name === 'pairs')!;
    expect(pairs.key).toEqual(['a', 'b']);
    expect(pairs.differences[0]).toMatchObject({ kind: 'changed', key: { a: 'é', b: 2 }, columns: ['note'] });
  });

  it('compares keyless tables as multisets (duplicates count, blobs shown as hex)', () => {
    const a = makeDb('a.db');
    const b = makeDb('b.db', (db) => db.exec(`DELETE FROM events WHERE rowid = 2`));
    const events = compareDatabases(a, b).tables.find((t) => t.name === 'events')!;
    expect(events.rows).toEqual({ a: 2, b: 1 });
    expect(events.differences).toEqual([{ kind: 'only_in_a', key: { kind: 'created', body: "x'010203'" }, a: {} }]);
  });

  it('detects schema differences: tables, columns, indexes, user_version', () => {
    const a = makeDb('a.db');
    const b = makeDb('b.db', (db) => {
      db.exec('ALTER TABLE tasks ADD COLUMN priority INTEGER');
      db.exec('DROP INDEX tasks_status');
      db.exec('CREATE TABLE critics (id INTEGER PRIMARY KEY)');
      db.pragma('user_version = 3');
    });
    const report = compareDatabases(a, b);
    expect(report.equal).toBe(false);
    expect(report.schema.only_in_a).toEqual(['tasks_status']);
    expect(report.schema.only_in_b).toEqual(['critics']);
    expect(report.schema.changed.map((c) => c.name)).toEqual(['tasks']);
    expect(report.user_version).toEqual({ a: 0, b: 3 });
    // Rows are still compared on the common columns.
    expect(report.tables.find((t) => t.name === 'tasks')!.equal).toBe(true);
  });

  it('applies --ignore rules: table.column, *.column and table.*', () => {
    const a = makeDb('a.db');
    const b = makeDb('b.db', (db) => {
      db.exec(`UPDATE tasks SET updated_at = 'later'`);
      db.exec(`DELETE FROM events`);
      db.exec('ALTER TABLE pairs ADD COLUMN updated_at TEXT');
    });
    expect(compareDatabases(a, b).equal).toBe(false);
    const report = compareDatabases(a, b, { ignore: ['tasks.updated_at', 'events.*', '*.updated_at'] });
    expect(report.equal).toBe(true);
    expect(report.tables.find((t) => t.name === 'events')!.ignored).toBe(true);
    expect(report.tables.find((t) => t.name === 'tasks')!.columns).toEqual(['id', 'title', 'status']);
  });

  it('matches rows by content when the primary key itself is ignored', () => {
    const a = makeDb('a.db');
    const b = makeDb('b.db', (db) => db.exec('UPDATE tasks SET id = id + 1000'));
    expect(compareDatabases(a, b).equal).toBe(false);
    const report = compareDatabases(a, b, { ignore: ['tasks.id'] });
    expect(report.tables.find((t) => t.name === 'tasks')).toMatchObject({ equal: true, key: [] });
  });

  it('limits the rows it lists but counts them all', () => {
    const a = makeDb('a.db');
    const b = makeDb('b.db', (db) => db.exec(`UPDATE tasks SET title = title || '!'`));
    const tasks = compareDatabases(a, b, { maxDifferences: 2 }).tables.find((t) => t.name === 'tasks')!;
    expect(tasks.differing_rows).toBe(200);
    expect(tasks.differences.map((d) => d.key)).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('never writes to either database', () => {
    const a = makeDb('a.db');
    const b = makeDb('b.db', (db) => db.exec(`UPDATE tasks SET status = 'x'`));
    const before = [sha(a), sha(b)];
    compareDatabases(a, b);
    expect([sha(a), sha(b)]).toEqual(before);
  });

  it('rejects bad input with coded usage errors naming the file or rule', () => {
    const a = makeDb('a.db');
    const missing = join(dir, 'missing.db');
    expect(() => compareDatabases(a, missing)).toThrow(expect.objectContaining({ code: 'WVO_STATE_DB_MISSING', subject: missing, exitCode: 2 }));
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not a database');
    expect(() => compareDatabases(text, a)).toThrow(expect.objectContaining({ code: 'WVO_STATE_NOT_SQLITE', subject: text }));
    expect(() => compareDatabases(a, a, { ignore: ['nodot'] })).toThrow(expect.objectContaining({ code: 'WVO_PARITY_IGNORE_INVALID' }));
    expect(() => parseIgnoreRules(['tasks.'])).toThrow(expect.objectContaining({ code: 'WVO_PARITY_IGNORE_INVALID' }));
  });
});

describe('compareCells (SQLite BINARY order)', () => {
  it('orders NULL < numbers < text < blob, numbers by value, text by UTF-8 bytes', () => {
    const sorted = [null, -1n, 0.5, 1n, 2, 'B', 'a', '\uffff', '\u{10000}', Buffer.from([0]), Buffer.from([1])];
    const shuffled = [...sorted].reverse();
    expect(shuffled.sort(compareCells)).toEqual(sorted);
  });
});
