import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  compareDatabases,
  readManifest,
  snapshotCopies,
  takeSnapshot,
  type SnapshotMethod,
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

async function startWriter(dbPath: string): Promise<ChildProcess> {
  const script = join(dir, 'writer.cjs');
  writeFileSync(script, WRITER);
  const child = spawn(process.execPath, [script, BETTER_SQLITE3, dbPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
  });
  return child;
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

  it.each<SnapshotMethod>(['backup', 'vacuum'])(
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

  it('leaves the source database byte-identical', async () => {
    const root = makeStateRoot();
    const source = join(root, 'orchestrator.db');
    const before = sha(source);
    await takeSnapshot({ sourceRoot: root, destRoot: join(dir, 'a') });
    await takeSnapshot({ sourceRoot: root, destRoot: join(dir, 'b'), method: 'vacuum' });
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

  it.skipIf(!canMount).each<SnapshotMethod>(['backup', 'vacuum'])(
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
