/**
 * Snapshot throughput against `cp` (issue 5: aim ≥ 0.8× cp).
 *
 *   npx tsx bench/snapshot.ts [--sizes 100,1000] [--runs 2]
 *
 * For each size (MB) it generates a WAL-mode state DB in a temp dir (tasks with an index and
 * ~1 KiB payloads), then times, best of --runs, with the file warm in the page cache:
 *   cp       `cp` of the closed database file (not a valid way to copy a live DB; the yardstick)
 *   raw      the WAL-aware raw copy under one read transaction (what takeSnapshot uses by default)
 *   backup   the online backup API in one step
 *   vacuum   VACUUM INTO without fsync
 *   snapshot the whole takeSnapshot: raw copy + integrity_check + sha256 + manifest
 * Everything is deleted afterwards.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { copySqliteConsistent, takeSnapshot, type SnapshotMethod } from '../controller/src/state/index.js';
import { usageOnHelp } from './usage.js';

usageOnHelp(import.meta.url);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const sizes = arg('sizes', '100,1000').split(',').map(Number);
const runs = Number(arg('runs', '2'));

function generate(path: string, megabytes: number): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.exec(`CREATE TABLE tasks (id INTEGER PRIMARY KEY, status TEXT NOT NULL, priority INTEGER NOT NULL, payload BLOB NOT NULL);
           CREATE INDEX tasks_status_priority ON tasks(status, priority);`);
  const pool = randomBytes(1 << 20);
  const insert = db.prepare('INSERT INTO tasks (status, priority, payload) VALUES (?, ?, ?)');
  const rows = Math.ceil((megabytes * 1024 * 1024) / 1100);
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i += 1) {
      const offset = (i * 977) % (pool.length - 1024);
      insert.run(['open', 'done', 'blocked'][i % 3], i % 100, pool.subarray(offset, offset + 1024));
    }
  });
  for (let i = 0; i < rows; i += 50_000) batch(i, Math.min(rows, i + 50_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

async function best(fn: (dest: string) => Promise<void> | void, work: string): Promise<number> {
  let fastest = Infinity;
  for (let run = 0; run < runs; run += 1) {
    const dest = join(work, `out-${run}`);
    mkdirSync(dest);
    const started = process.hrtime.bigint();
    await fn(dest);
    fastest = Math.min(fastest, Number(process.hrtime.bigint() - started) / 1e6);
    rmSync(dest, { recursive: true, force: true });
  }
  return fastest;
}

const rowsOut: string[][] = [];
for (const megabytes of sizes) {
  const work = mkdtempSync(join(tmpdir(), 'wvo-bench-snapshot-'));
  try {
    const state = join(work, 'state');
    mkdirSync(state);
    const source = join(state, 'orchestrator.db');
    process.stderr.write(`generating ${megabytes} MB ...\n`);
    generate(source, megabytes);
    const mb = statSync(source).size / (1024 * 1024);
    execFileSync('cp', [source, join(work, 'warm.db')]); // page cache warm for everyone
    rmSync(join(work, 'warm.db'));

    const cp = await best((dest) => void execFileSync('cp', [source, join(dest, 'o.db')]), work);
    const copy = (method: SnapshotMethod) => async (dest: string) => {
      await copySqliteConsistent(source, join(dest, 'o.db'), method);
    };
    const raw = await best(copy('raw'), work);
    const backup = await best(copy('backup'), work);
    const vacuum = await best(copy('vacuum'), work);
    const snapshot = await best(async (dest) => void (await takeSnapshot({ sourceRoot: state, destRoot: join(dest, 's') })), work);
    const rate = (ms: number) => (mb / (ms / 1000)).toFixed(0);
    const ratio = (ms: number) => (cp / ms).toFixed(2);
    rowsOut.push([
      `${mb.toFixed(0)} MB`,
      `${rate(cp)} MB/s`,
      `${rate(raw)} MB/s (${ratio(raw)}×)`,
      `${rate(backup)} MB/s (${ratio(backup)}×)`,
      `${rate(vacuum)} MB/s (${ratio(vacuum)}×)`,
      `${rate(snapshot)} MB/s (${ratio(snapshot)}×)`,
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const header = ['db size', 'cp', 'raw copy (WAL-aware)', 'backup API', 'VACUUM INTO', 'takeSnapshot (+checks)'];
const widths = header.map((h, i) => Math.max(h.length, ...rowsOut.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of rowsOut) console.log(line(row));
console.log(`(best of ${runs}; ratio = copy speed / cp speed; warm page cache; ${new Date().toISOString()})`);
