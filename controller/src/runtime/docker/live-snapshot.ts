import { randomBytes } from 'node:crypto';
import { mkdirSync, promises as fs } from 'node:fs';
import { join, posix } from 'node:path';
import { MANIFEST_FILE, SnapshotManifest, sha256File, type SnapshotFile } from '../../state/index.js';
import { RuntimeError } from '../errors.js';
import { LABELS } from './container-spec.js';
import type { LiveStateSnapshot } from '../lane-runtime.js';
import type { DockerHost } from './engine.js';
import { liveStateVolumeName } from './live-state.js';
import { compareDigests, fetchRemoteStateFile, helperOptions, inspectStateVolume, readHelperStreams, removeRemoteState } from './remote-state.js';

/**
 * A consistent snapshot of a deployment's live state where it lives: the `<project>-live-state`
 * volume on a volume-mode host (live-state.ts), which blue may be writing. A helper container on
 * that host (the image that made the volume: it has node and better-sqlite3) copies each database
 * with SQLite's online backup in one step (one read transaction: a concurrent writer can neither
 * restart nor tear it, as state/sqlite-copy.ts `backup`), checks and hashes the copies THERE into a
 * scratch volume, and the copies are fetched (fetchRemoteStateFile), re-hashed here against the
 * host's digests, and described by a snapshot manifest. A plain getArchive of a WAL database
 * being written is not consistent; this is.
 */

const LIVE_MOUNT = '/live';
/** Not STATE_MOUNT: an empty named volume mounted there would be seeded with the image's /state. */
const SCRATCH_MOUNT = '/snapshot';

/** Where the helper finds better-sqlite3: the lane image's own dependencies (worker.Dockerfile WORKDIR /app). */
const APP_DIR = '/app';

/**
 * Run by the helper (node -e, argv: exclude JSON, app dir). As root only long enough to hand the
 * scratch dir to the live state's owner, then as that user: a -shm the reader creates must stay the
 * lane's. The live connection is read-only; it still takes WAL read locks in the -shm, which is why
 * the live volume is mounted read-write (a read-only -shm makes SQLite fall back to heap memory).
 * Prints one JSON line: [{ path, kind, size, sha256, sqlite? }].
 */
const SNAPSHOT_SCRIPT = `
const fs = require('fs'), path = require('path'), crypto = require('crypto');
const exclude = JSON.parse(process.argv[1]);
const Database = require('module').createRequire(process.argv[2] + '/package.json')('better-sqlite3');
const live = '${LIVE_MOUNT}', out = '${SCRATCH_MOUNT}';
const owner = fs.statSync(live);
fs.chownSync(out, owner.uid, owner.gid);
process.setgid(owner.gid);
process.setuid(owner.uid);
const excluded = (rel) => exclude.some((e) => rel === e || rel.startsWith(e + '/'));
const files = [];
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name), rel = path.relative(live, p);
    if (excluded(rel)) continue;
    if (e.isDirectory()) walk(p); else if (e.isFile()) files.push(rel);
  }
};
walk(live);
const present = new Set(files);
const side = (rel) => ['-wal', '-shm', '-journal'].some((s) => rel.endsWith(s) && present.has(rel.slice(0, -s.length)));
const isSqlite = (p) => {
  const fd = fs.openSync(p, 'r'), b = Buffer.alloc(16);
  try { return fs.readSync(fd, b, 0, 16, 0) === 16 && b.toString('latin1') === 'SQLite format 3\\u0000'; } finally { fs.closeSync(fd); }
};
(async () => {
  const result = [];
  for (const rel of files.filter((f) => !side(f)).sort()) {
    const src = path.join(live, rel), dest = path.join(out, rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    let sqlite;
    if (isSqlite(src)) {
      const db = new Database(src, { readonly: true, fileMustExist: true });
      try { await db.backup(dest, { progress: () => 0x7fffffff }); } finally { db.close(); }
      const copy = new Database(dest, { fileMustExist: true });
      try {
        const problems = copy.pragma('integrity_check').map((r) => r.integrity_check);
        if (problems.length !== 1 || problems[0] !== 'ok') throw new Error('integrity_check failed on the copy of ' + rel + ': ' + problems.slice(0, 5).join('; '));
        sqlite = { page_count: copy.pragma('page_count', { simple: true }), page_size: copy.pragma('page_size', { simple: true }), user_version: copy.pragma('user_version', { simple: true }), journal_mode: copy.pragma('journal_mode', { simple: true }) };
      } finally { copy.close(); }
    } else fs.copyFileSync(src, dest);
    const data = fs.readFileSync(dest);
    result.push({ path: rel, kind: sqlite ? 'sqlite' : 'file', size: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex'), ...(sqlite ? { sqlite } : {}) });
  }
  process.stdout.write(JSON.stringify(result));
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

export interface LiveSnapshotOptions {
  project: string;
  /** A new or empty local directory: receives the copies and manifest.json. */
  destDir: string;
  /** Paths (relative to the state root) left out; a folder takes everything under it. */
  exclude?: readonly string[];
}

export interface LiveSnapshot extends LiveStateSnapshot {
  manifest: SnapshotManifest;
}

/** Take the live snapshot on `host` into `destDir`. The scratch volume and helpers are removed whatever happens. */
export async function snapshotLiveVolume(host: DockerHost, options: LiveSnapshotOptions): Promise<LiveSnapshot> {
  const started = Date.now();
  const volume = liveStateVolumeName(options.project);
  const info = await inspectStateVolume(host, volume);
  const image = info?.Labels?.[LABELS.image];
  if (!info || !image) {
    throw new RuntimeError('WVO_STATE_LIVE_SNAPSHOT_MISSING', `${info ? 'volume' : 'no live state volume'} ${volume} on host "${host.name}"${info ? ' is not a wvo live state (no wvo.image label)' : ''}: nothing to snapshot there`, {
      subject: volume,
      hint: `The live lane's state is a volume on "${host.name}" but it is not there: list them there (docker volume ls --filter label=wvo.project=${options.project}); restore the volume or start the live lane again (it creates it from the state root).`,
      details: { host: host.name, volume },
    });
  }
  const scratch = `${options.project}-live-snap-${randomBytes(4).toString('hex')}`;
  await host.docker.createVolume({ Name: scratch, Labels: { [LABELS.project]: options.project, [LABELS.role]: 'snapshot', [LABELS.image]: image } });
  let helper: Awaited<ReturnType<typeof host.docker.createContainer>> | undefined;
  try {
    helper = await host.docker.createContainer(
      helperOptions(host, { project: options.project, lane: 'live-snapshot', image, volume: scratch }, ['-e', SNAPSHOT_SCRIPT, JSON.stringify(options.exclude ?? []), APP_DIR], false, {
        binds: [`${volume}:${LIVE_MOUNT}:rw`, `${scratch}:${SCRATCH_MOUNT}:rw`],
        capAdd: ['SETUID', 'SETGID'],
      }),
    );
    await helper.start();
    const exit = (await helper.wait()) as { StatusCode: number };
    const { stdout, stderr } = await readHelperStreams(helper);
    if (exit.StatusCode !== 0) {
      throw new RuntimeError('WVO_STATE_LIVE_SNAPSHOT_FAILED', `the snapshot helper on host "${host.name}" (volume ${volume}, image ${image}) exited ${exit.StatusCode}: ${stderr.trim().split('\n').slice(0, 3).join(' ')}`, {
        subject: volume,
        hint: `The live state was only read. Check the image has node and better-sqlite3 under ${APP_DIR}, and the disk on that host; then retry.`,
        details: { host: host.name, volume, image, stderr: stderr.trim().split('\n').slice(-20) },
      });
    }
    const files = (JSON.parse(stdout) as SnapshotFile[]).map((f) => ({ ...f, path: f.path.split('\\').join('/') }));
    await fs.mkdir(options.destDir, { recursive: true });
    for (const file of files) {
      const dir = join(options.destDir, posix.dirname(file.path));
      mkdirSync(dir, { recursive: true });
      await fetchRemoteStateFile(host, scratch, file.path, dir);
    }
    const local = await Promise.all(files.map(async (f) => ({ path: f.path, size: (await fs.stat(join(options.destDir, f.path))).size, sha256: await sha256File(join(options.destDir, f.path)) })));
    const problems = compareDigests(files, local);
    if (problems.length) {
      throw new RuntimeError('WVO_STATE_VERIFY_FAILED', `the live snapshot fetched from host "${host.name}" does not match what was hashed there: ${problems.slice(0, 5).join('; ')}`, {
        subject: options.destDir,
        hint: 'The fetch was damaged; take the snapshot again.',
        details: { host: host.name, volume, problems: problems.slice(0, 20) },
      });
    }
    const manifest = SnapshotManifest.parse({ version: 1, taken_at: new Date().toISOString(), source_root: `host:${host.name}:${volume}`, method: 'backup', files });
    await fs.writeFile(join(options.destDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    return { host: host.name, volume, image, root: options.destDir, manifest, files: files.length, bytes: files.reduce((sum, f) => sum + f.size, 0), durationMs: Date.now() - started };
  } catch (error) {
    await fs.rm(options.destDir, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  } finally {
    await helper?.remove({ force: true }).catch(() => undefined);
    await removeRemoteState(host, scratch).catch(() => undefined);
  }
}
