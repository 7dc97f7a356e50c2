import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SNAPSHOT_METHODS,
  compareDatabases,
  readManifest,
  snapshotCopies,
  takeSnapshot,
  walVerdict,
  type SnapshotMethod,
  type WalHandling,
} from '../../controller/src/state/index.js';

const require = createRequire(import.meta.url);
const BETTER_SQLITE3 = require.resolve('better-sqlite3');

let dir: string;
let children: ChildProcess[] = [];
const mounts: string[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wvo-test-state-snapshot-'));
});
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children = [];
  for (const mount of mounts.splice(0)) spawnSync('umount', [mount]);
  rmSync(dir, { recursive: true, force: true });
});

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A WAL state DB: a counter table (1..n) and an aggregate row kept in step with it. */
function makeStateDb(path: string, rows: number, padding = 200): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE counter (n INTEGER PRIMARY KEY, pad TEXT NOT NULL);
           CREATE TABLE agg (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL, total INTEGER NOT NULL);
           INSERT INTO agg VALUES (1, 0, 0);`);
  const insert = db.prepare('INSERT INTO counter VALUES (?, ?)');
  const bump = db.prepare('UPDATE agg SET count = count + 1, total = total + ? WHERE id = 1');
  db.transaction(() => {
    for (let n = 1; n <= rows; n += 1) {
      insert.run(n, 'x'.repeat(padding));
      bump.run(n);
    }
  })();
  db.close();
}

/**
 * Another process that commits continuously: each transaction appends the next counter row and
 * updates the aggregate. It prints "ready" after its first commit and "n=<k>" when stopped.
 */
const WRITER = `
const Database = require(process.argv[2]);
const db = new Database(process.argv[3]);
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 5000');
let n = db.prepare('SELECT max(n) AS m FROM counter').get().m;
const insert = db.prepare('INSERT INTO counter VALUES (?, ?)');
const bump = db.prepare('UPDATE agg SET count = count + 1, total = total + ? WHERE id = 1');
const step = db.transaction(() => { n += 1; insert.run(n, 'y'.repeat(200)); bump.run(n); });
let said = false;
const loop = () => {
  for (let i = 0; i < 20; i += 1) step();
  if (!said) { said = true; process.stdout.write('ready\\n'); }
  setImmediate(loop);
};
process.on('SIGTERM', () => { process.stdout.write('n=' + n + '\\n'); db.close(); process.exit(0); });
loop();
`;

/** Start a node script in another process (killed in afterEach); resolves at its first output. */
async function startChild(name: string, source: string, args: readonly (string | number)[]): Promise<ChildProcess> {
  const script = join(dir, `${name}.cjs`);
  writeFileSync(script, source);
  const child = spawn(process.execPath, [script, BETTER_SQLITE3, ...args.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`${name} exited early (${code})`)));
  });
  return child;
}

const startWriter = (dbPath: string) => startChild('writer', WRITER, [dbPath]);

/** SIGTERM a child started by startChild and resolve with everything it printed afterwards. */
function stopChild(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', () => resolve(out));
    child.kill('SIGTERM');
  });
}

function committed(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS c FROM counter').get() as { c: number }).c;
  } finally {
    db.close();
  }
}

/** The snapshot is the source at one moment: rows 1..k, no gaps, aggregate in step. */
function expectConsistentPrefix(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    const { c, lo, hi } = db.prepare('SELECT count(*) AS c, min(n) AS lo, max(n) AS hi FROM counter').get() as { c: number; lo: number; hi: number };
    const agg = db.prepare('SELECT count, total FROM agg').get() as { count: number; total: number };
    expect(lo).toBe(1);
    expect(hi).toBe(c);
    expect(agg).toEqual({ count: c, total: (c * (c + 1)) / 2 });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    return c;
  } finally {
    db.close();
  }
}

function makeStateRoot(rows = 2_000): string {
  const root = join(dir, 'state');
  mkdirSync(join(root, 'analytics'), { recursive: true });
  makeStateDb(join(root, 'orchestrator.db'), rows);
  writeFileSync(join(root, 'analytics', 'upgrade_shadow.json'), '{"count":0}\n');
  writeFileSync(join(root, 'upgrade.lock'), '{}');
  return root;
}

describe('takeSnapshot', () => {
  it('copies databases through SQLite and other files as they are, with a manifest', async () => {
    const root = makeStateRoot();
    const dest = join(dir, 'snap');
    const result = await takeSnapshot({ sourceRoot: root, destRoot: dest });
    expect(readdirSync(dest).sort()).toEqual(['analytics', 'manifest.json', 'orchestrator.db']);
    const manifest = readManifest(dest);
    expect(manifest).toEqual(result.manifest);
    expect(manifest.files.map((f) => [f.path, f.kind])).toEqual([
      ['analytics/upgrade_shadow.json', 'file'],
      ['orchestrator.db', 'sqlite'],
    ]);
    const db = manifest.files[1]!;
    expect(db.sha256).toBe(sha(join(dest, 'orchestrator.db')));
    expect(db.size).toBe(statSync(join(dest, 'orchestrator.db')).size);
    expect(db.sqlite).toMatchObject({ journal_mode: 'wal', user_version: 0 });
    expect(db.sqlite!.page_count * db.sqlite!.page_size).toBe(db.size);
    expect(compareDatabases(join(root, 'orchestrator.db'), join(dest, 'orchestrator.db')).equal).toBe(true);
  });

  it.each<SnapshotMethod>([...SNAPSHOT_METHODS])(
    'takes a consistent copy (%s) while another process keeps committing',
    async (method) => {
      const root = makeStateRoot(20_000);
      const source = join(root, 'orchestrator.db');
      const writer = await startWriter(source);
      const seen: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const before = committed(source);
        const dest = join(dir, `snap-${method}-${i}`);
        await takeSnapshot({ sourceRoot: root, destRoot: dest, method });
        expect(readdirSync(dest).filter((f) => f.endsWith('-wal') || f.endsWith('-shm'))).toEqual([]);
        const k = expectConsistentPrefix(join(dest, 'orchestrator.db'));
        expect(k).toBeGreaterThanOrEqual(before);
        seen.push(k);
      }
      const stopped = new Promise<number>((resolve) => writer.stdout!.on('data', (d: Buffer) => {
        const match = /n=(\d+)/.exec(d.toString());
        if (match) resolve(Number(match[1]));
      }));
      writer.kill('SIGTERM');
      const last = await stopped;
      // The writer kept committing during and after the snapshots.
      expect(last).toBeGreaterThan(seen[seen.length - 1]!);
      expect(seen[2]!).toBeGreaterThan(seen[0]!);
      expect(seen[0]!).toBeGreaterThan(20_000);
    },
  );

  it('excludes a folder named in `exclude` with everything under it, at a path-segment boundary', async () => {
    const root = makeStateRoot(10);
    mkdirSync(join(root, 'runtime', 'lanes'), { recursive: true });
    writeFileSync(join(root, 'runtime', 'lanes', 'up-1-baseline.json'), '{}');
    mkdirSync(join(root, 'analytics.bak'), { recursive: true });
    writeFileSync(join(root, 'analytics.bak', 'keep.json'), '{}');
    writeFileSync(join(root, 'runtime-notes.txt'), 'kept');
    mkdirSync(join(root, 'logs', 'old'), { recursive: true });
    writeFileSync(join(root, 'logs', 'old', 'a.log'), 'gone');
    writeFileSync(join(root, 'logs', 'older.log'), 'kept');
    // An open WAL database: its -wal/-shm must go with it.
    const controller = new Database(join(root, 'controller.db'));
    controller.pragma('journal_mode = WAL');
    controller.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    try {
      expect(existsSync(join(root, 'controller.db-wal'))).toBe(true);
      const dest = join(dir, 'snap');
      const { manifest } = await takeSnapshot({
        sourceRoot: root,
        destRoot: dest,
        exclude: ['upgrade.lock', 'analytics', 'runtime/', 'logs/old', 'controller.db'],
      });
      expect(manifest.files.map((f) => f.path)).toEqual([
        'analytics.bak/keep.json',
        'logs/older.log',
        'orchestrator.db',
        'runtime-notes.txt',
      ]);
      expect(readdirSync(dest).sort()).toEqual(['analytics.bak', 'logs', 'manifest.json', 'orchestrator.db', 'runtime-notes.txt']);
      expect(readdirSync(join(dest, 'logs'))).toEqual(['older.log']);
    } finally {
      controller.close();
    }
  });

  it('leaves the source database byte-identical', async () => {
    const root = makeStateRoot();
    const source = join(root, 'orchestrator.db');
    const before = sha(source);
    await takeSnapshot({ sourceRoot: root, destRoot: join(dir, 'default') });
    for (const method of SNAPSHOT_METHODS) await takeSnapshot({ sourceRoot: root, destRoot: join(dir, method), method });
    expect(sha(source)).toBe(before);
  });

  it('names a missing source and refuses a used destination', async () => {
    const root = makeStateRoot(10);
    await expect(takeSnapshot({ sourceRoot: join(dir, 'nope'), destRoot: join(dir, 's') })).rejects.toMatchObject({
      code: 'WVO_SNAPSHOT_SOURCE_MISSING',
      subject: join(dir, 'nope'),
    });
    mkdirSync(join(dir, 'used'));
    writeFileSync(join(dir, 'used', 'x'), 'x');
    await expect(takeSnapshot({ sourceRoot: root, destRoot: join(dir, 'used') })).rejects.toMatchObject({ code: 'WVO_SNAPSHOT_DEST_INVALID' });
    await expect(takeSnapshot({ sourceRoot: root, destRoot: join(root, 'inner') })).rejects.toMatchObject({ code: 'WVO_SNAPSHOT_DEST_INVALID' });
    expect(existsSync(join(root, 'inner'))).toBe(false);
  });

  it('reports an unwritable destination and removes the partial copy', async () => {
    const root = makeStateRoot(10);
    writeFileSync(join(dir, 'a-file'), '');
    await expect(takeSnapshot({ sourceRoot: root, destRoot: join(dir, 'a-file', 'snap') })).rejects.toMatchObject({
      code: 'WVO_SNAPSHOT_DEST_UNWRITABLE',
    });
    const dest = join(dir, 'denied');
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    await expect(
      takeSnapshot({ sourceRoot: root, destRoot: dest, io: { copyFile: async () => Promise.reject(denied) } }),
    ).rejects.toMatchObject({ code: 'WVO_SNAPSHOT_DEST_UNWRITABLE' });
    expect(existsSync(dest)).toBe(false);
  });

  it('reports a full disk (injected ENOSPC), removes the partial copy, keeps the source', async () => {
    const root = makeStateRoot();
    const before = sha(join(root, 'orchestrator.db'));
    const dest = join(dir, 'full');
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    await expect(
      takeSnapshot({ sourceRoot: root, destRoot: dest, io: { writeFile: async () => Promise.reject(full) } }),
    ).rejects.toMatchObject({ code: 'WVO_SNAPSHOT_DISK_FULL', subject: join(dest, 'manifest.json') });
    expect(existsSync(dest)).toBe(false);
    expect(sha(join(root, 'orchestrator.db'))).toBe(before);
  });

  const canMount = process.getuid?.() === 0 && (() => {
    const probe = mkdtempSync(join(tmpdir(), 'wvo-test-mount-probe-'));
    const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
    if (ok) spawnSync('umount', [probe]);
    rmSync(probe, { recursive: true, force: true });
    return ok;
  })();

  it.skipIf(!canMount).each<SnapshotMethod>([...SNAPSHOT_METHODS])(
    'reports a real full disk (1 MiB tmpfs, %s) and leaves the mount empty',
    async (method) => {
      const root = makeStateRoot(20_000); // ~5 MB: cannot fit
      const before = sha(join(root, 'orchestrator.db'));
      const mount = join(dir, 'tiny');
      mkdirSync(mount);
      expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]).status).toBe(0);
      mounts.push(mount);
      await expect(takeSnapshot({ sourceRoot: root, destRoot: join(mount, 'snap'), method })).rejects.toMatchObject({
        code: 'WVO_SNAPSHOT_DISK_FULL',
      });
      expect(readdirSync(mount)).toEqual([]);
      expect(sha(join(root, 'orchestrator.db'))).toBe(before);
    },
  );
});

describe('snapshotCopies', () => {
  it('makes one identical, parity-checked copy per lane while the writer commits', async () => {
    const root = makeStateRoot(5_000);
    await startWriter(join(root, 'orchestrator.db'));
    const lanes = ['baseline', 'replica', 'candidate'].map((lane) => join(dir, 'lanes', lane));
    const { copies } = await snapshotCopies({ sourceRoot: root, destRoots: lanes });
    expect(copies.map((c) => c.root)).toEqual(lanes);
    const shas = lanes.map((lane) => sha(join(lane, 'orchestrator.db')));
    expect(new Set(shas).size).toBe(1);
    expect(new Set(lanes.map((lane) => readFileSync(join(lane, 'manifest.json'), 'utf8'))).size).toBe(1);
    for (const lane of lanes) {
      expect(readdirSync(lane).sort()).toEqual(['analytics', 'manifest.json', 'orchestrator.db']);
      expect(readManifest(lane).files.find((f) => f.kind === 'sqlite')!.sha256).toBe(shas[0]);
      expectConsistentPrefix(join(lane, 'orchestrator.db'));
    }
  });

  it('removes every lane copy when one fails', async () => {
    const root = makeStateRoot(10);
    const lanes = ['a', 'b', 'c'].map((lane) => join(dir, 'lanes', lane));
    let copiesMade = 0;
    const full = Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
    await expect(
      snapshotCopies({
        sourceRoot: root,
        destRoots: lanes,
        io: { writeFile: async (path, data) => { if (++copiesMade === 3) throw full; writeFileSync(path, data); } },
      }),
    ).rejects.toMatchObject({ code: 'WVO_SNAPSHOT_DISK_FULL' });
    for (const lane of lanes) expect(existsSync(lane)).toBe(false);
  });
});

describe('raw copy (WAL-aware)', () => {
  const ACCOUNTS = 50;
  const TOTAL = ACCOUNTS * 1_000;

  /**
   * A state DB whose every commit keeps two invariants: money moves between accounts (the sum
   * stays TOTAL), and each commit appends one log row and sets counter.n to the log's length.
   */
  function makeBankDb(path: string, logRows = 20_000): void {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
             CREATE TABLE log (seq INTEGER PRIMARY KEY, amount INTEGER NOT NULL, pad TEXT NOT NULL);
             CREATE TABLE counter (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);`);
    db.transaction(() => {
      for (let id = 1; id <= ACCOUNTS; id += 1) db.prepare('INSERT INTO accounts VALUES (?, 1000)').run(id);
      const log = db.prepare('INSERT INTO log VALUES (?, 0, ?)');
      for (let seq = 1; seq <= logRows; seq += 1) log.run(seq, 'x'.repeat(200));
      db.prepare('INSERT INTO counter VALUES (1, ?)').run(logRows);
    })();
    db.close();
  }

  /**
   * Commits bank transactions back to back in another process. argv: db, wal_autocheckpoint,
   * then `loop` (until SIGTERM, printing "n=<k>" then) or a number of commits after which it
   * prints "done" and idles with its connection open. Some commits carry overflow pages, so a
   * transaction spans several WAL frames and a copy can catch one half-written.
   */
  const BANK_WRITER = `
const Database = require(process.argv[2]);
const db = new Database(process.argv[3]);
db.pragma('busy_timeout = 20000');
db.pragma('wal_autocheckpoint = ' + Number(process.argv[4]));
const mode = process.argv[5];
let seed = 7;
const rand = (m) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % m; };
const move = db.prepare('UPDATE accounts SET balance = balance + ? WHERE id = ?');
const log = db.prepare('INSERT INTO log VALUES (?, ?, ?)');
const bump = db.prepare('UPDATE counter SET n = ? WHERE id = 1');
let n = db.prepare('SELECT n FROM counter').pluck().get();
const step = db.transaction(() => {
  const x = rand(100);
  move.run(-x, rand(${ACCOUNTS}) + 1);
  move.run(x, rand(${ACCOUNTS}) + 1);
  n += 1;
  log.run(n, x, 'y'.repeat(rand(16) === 0 ? 6000 : 20));
  bump.run(n);
});
process.on('SIGTERM', () => { process.stdout.write('n=' + n + '\\n'); db.close(); process.exit(0); });
if (mode === 'loop') {
  let said = false;
  const loop = () => {
    for (let i = 0; i < 10; i += 1) step();
    if (!said) { said = true; process.stdout.write('ready\\n'); }
    setTimeout(loop, 1);
  };
  loop();
} else {
  for (let i = 0; i < Number(mode); i += 1) step();
  process.stdout.write('done n=' + n + '\\n');
  setInterval(() => {}, 1000);
}
`;

  /** A third process forcing WAL restarts: RESTART and TRUNCATE checkpoints in turn. */
  const CHECKPOINTER = `
const Database = require(process.argv[2]);
const db = new Database(process.argv[3]);
db.pragma('busy_timeout = 100');
let i = 0;
const loop = () => {
  db.pragma(i % 2 ? 'wal_checkpoint(RESTART)' : 'wal_checkpoint(TRUNCATE)');
  if (i++ === 0) process.stdout.write('ready\\n');
  setTimeout(loop, 1);
};
process.on('SIGTERM', () => { db.close(); process.exit(0); });
loop();
`;

  /** The copy is the bank at one commit: integrity ok, money kept, log and counter in step. */
  function expectBankInvariants(path: string): number {
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.prepare('SELECT sum(balance) FROM accounts').pluck().get()).toBe(TOTAL);
      const n = db.prepare('SELECT n FROM counter').pluck().get() as number;
      expect(db.prepare('SELECT count(*) AS c, min(seq) AS lo, max(seq) AS hi FROM log').get()).toEqual({ c: n, lo: 1, hi: n });
      return n;
    } finally {
      db.close();
    }
  }

  /**
   * Take raw snapshots while the children commit: at least `min`, and more (up to `max`) until
   * `want` has been seen. Every copy must hold the invariants; the counter never goes back.
   */
  async function snapshotWhileWriting(root: string, min: number, max: number, want?: WalHandling) {
    const seen: Record<WalHandling, number> = { 'read-by-sqlite': 0, none: 0, kept: 0, dropped: 0 };
    const counters: number[] = [];
    for (let i = 0; i < max && (i < min || (want !== undefined && seen[want] === 0)); i += 1) {
      const dest = join(dir, 'snaps', String(i));
      const result = await takeSnapshot({ sourceRoot: root, destRoot: dest, method: 'raw' });
      expect(result.sqlite.map((c) => [c.path, c.method])).toEqual([['orchestrator.db', 'raw']]);
      seen[result.sqlite[0]!.wal] += 1;
      expect(readdirSync(dest).sort()).toEqual(['manifest.json', 'orchestrator.db']);
      const n = expectBankInvariants(join(dest, 'orchestrator.db'));
      expect(n).toBeGreaterThanOrEqual(counters.at(-1) ?? 0);
      counters.push(n);
      rmSync(dest, { recursive: true, force: true });
    }
    return { seen, counters };
  }

  function makeBankRoot(): { root: string; source: string } {
    const root = join(dir, 'state');
    mkdirSync(root);
    makeBankDb(join(root, 'orchestrator.db'));
    return { root, source: join(root, 'orchestrator.db') };
  }

  it('copies one committed moment while another process commits back to back (WAL kept)', async () => {
    const { root, source } = makeBankRoot();
    const writer = await startChild('bank-writer', BANK_WRITER, [source, 1000, 'loop']);
    const { seen, counters } = await snapshotWhileWriting(root, 30, 30);
    const last = Number(/n=(\d+)/.exec(await stopChild(writer))?.[1]);
    // The writer committed throughout, and most copies carried WAL frames past the db file.
    expect(counters[0]!).toBeGreaterThan(20_000);
    expect(counters.at(-1)!).toBeGreaterThan(counters[0]!);
    expect(last).toBeGreaterThanOrEqual(counters.at(-1)!);
    expect(seen.kept).toBeGreaterThan(0);
  });

  it('drops the copied WAL when it restarted during the copy, and the copy is still one moment', async () => {
    const { root, source } = makeBankRoot();
    // Checkpoint after every commit and force RESTART/TRUNCATE checkpoints from a third process,
    // so the WAL is often fully backfilled when a copy starts and restarts while it runs.
    const writer = await startChild('bank-writer', BANK_WRITER, [source, 1, 'loop']);
    const checkpointer = await startChild('checkpointer', CHECKPOINTER, [source]);
    const { seen, counters } = await snapshotWhileWriting(root, 30, 200, 'dropped');
    await stopChild(checkpointer);
    await stopChild(writer);
    // Without at least one restart caught mid-copy this test would prove nothing.
    expect(seen.dropped).toBeGreaterThan(0);
    expect(counters.at(-1)!).toBeGreaterThan(counters[0]!);
  });

  it('leaves the source db and its WAL byte-identical and copies the WAL frames in', async () => {
    const { root, source } = makeBankRoot();
    // 300 commits left in the WAL (no checkpoints), then the writer dies: nothing else writes.
    const writer = await startChild('bank-writer', BANK_WRITER, [source, 0, 300]);
    writer.kill('SIGKILL');
    await new Promise((resolve) => writer.once('exit', resolve));
    expect(statSync(`${source}-wal`).size).toBeGreaterThan(0);
    const before = [sha(source), sha(`${source}-wal`)];
    for (const method of SNAPSHOT_METHODS) {
      const result = await takeSnapshot({ sourceRoot: root, destRoot: join(dir, method), method });
      expect(result.sqlite[0]!.wal).toBe(method === 'raw' ? 'kept' : 'read-by-sqlite');
      expect(expectBankInvariants(join(dir, method, 'orchestrator.db'))).toBe(20_300);
      expect([sha(source), sha(`${source}-wal`)]).toEqual(before);
    }
  });
});

describe('walVerdict', () => {
  const header = (salt: number) => {
    const b = Buffer.alloc(32);
    b.writeUInt32BE(0x377f0682, 0);
    b.writeUInt32BE(salt, 16);
    return b;
  };

  it('keeps the WAL only when all three headers are present and equal', () => {
    expect(walVerdict(header(1), header(1), header(1))).toBe('kept');
    expect(walVerdict(undefined, undefined, undefined)).toBe('none');
    expect(walVerdict(header(1), header(2), header(1))).toBe('dropped');
    expect(walVerdict(header(1), header(1), header(2))).toBe('dropped');
    expect(walVerdict(header(1), undefined, header(1))).toBe('dropped');
    expect(walVerdict(undefined, header(1), header(1))).toBe('dropped');
    expect(walVerdict(header(1), header(1), undefined)).toBe('dropped');
  });
});
