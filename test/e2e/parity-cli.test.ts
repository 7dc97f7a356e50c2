import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

// Runs the built CLI (`npm test` builds first; this file builds nothing).
const CLI = resolve(import.meta.dirname, '..', '..', 'dist/controller/src/cli/main.js');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wvo-test-parity-cli-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function makeDb(name: string, change?: string): string {
  const path = join(dir, name);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT, updated_at TEXT);
           CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);
           INSERT INTO settings VALUES ('PROMPT_MODE', 'compact');`);
  const insert = db.prepare('INSERT INTO tasks VALUES (?, ?, ?)');
  for (let i = 1; i <= 50; i += 1) insert.run(i, `task ${i}`, '2026-01-01');
  if (change) db.exec(change);
  db.close();
  return path;
}

const wvo = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('wvo parity', () => {
  it('exits 0 for equal databases', () => {
    const run = wvo('parity', makeDb('a.db'), makeDb('b.db'));
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('EQUAL');
    expect(run.stdout).toContain('tasks: 50 rows, equal');
  });

  it('exits 1 and shows the first differing rows', () => {
    const run = wvo('parity', makeDb('a.db'), makeDb('b.db', `UPDATE tasks SET title = 'renamed' WHERE id = 9; DELETE FROM tasks WHERE id = 30`));
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('DIFFER');
    expect(run.stdout).toContain('rows 50 vs 49');
    expect(run.stdout).toContain('changed {"id":9}: title');
    expect(run.stdout).toContain('only in A {"id":30}');
  });

  it('prints a JSON report with --json and honours repeated and comma-separated --ignore', () => {
    const a = makeDb('a.db');
    const b = makeDb('b.db', `UPDATE tasks SET updated_at = '2027-01-01'; UPDATE settings SET value = 'full'`);
    const differ = wvo('parity', a, b, '--json');
    expect(differ.status).toBe(1);
    const report = JSON.parse(differ.stdout);
    expect(report.equal).toBe(false);
    expect(report.tables.find((t: { name: string }) => t.name === 'tasks').differing_rows).toBe(50);
    const ignored = wvo('parity', a, b, '--ignore', 'tasks.updated_at', '--ignore', 'settings.value,unused.col', '--json');
    expect(ignored.status).toBe(0);
    expect(JSON.parse(ignored.stdout)).toMatchObject({ equal: true, ignore: ['tasks.updated_at', 'settings.value', 'unused.col'] });
  });

  it('exits 2 with a coded error naming a missing file', () => {
    const missing = join(dir, 'missing.db');
    const run = wvo('parity', makeDb('a.db'), missing);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('WVO_STATE_DB_MISSING');
    expect(run.stderr).toContain(missing);
    const json = wvo('parity', missing, missing, '--json');
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'WVO_STATE_DB_MISSING', subject: missing } });
  });

  it('exits 2 on usage errors: a missing argument, a bad --ignore rule', () => {
    expect(wvo('parity', makeDb('a.db')).status).toBe(2);
    const bad = wvo('parity', join(dir, 'a.db'), join(dir, 'a.db'), '--ignore', 'nodot');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('WVO_PARITY_IGNORE_INVALID');
  });

  it('has --help', () => {
    const run = wvo('parity', '--help');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('--ignore <table.column>');
  });
});
