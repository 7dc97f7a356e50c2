import { createWriteStream, existsSync, promises as fs } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { ContainerCreateOptions } from 'dockerode';
import { MANIFEST_FILE, readManifest, sha256File } from '../../state/index.js';
import { RuntimeError } from '../errors.js';
import { packTar, type TarEntry } from '../images/tar-pack.js';
import { LABELS, STATE_MOUNT } from './container-spec.js';
import { isNotFound, type DockerHost } from './engine.js';
import { demuxDockerLogs } from './log-stream.js';
import { extractTar } from './tar-read.js';

/**
 * Lane state on a host that does not share this machine's filesystem (DESIGN §4): a Docker volume
 * on that host, written through the API (`putArchive` into a short-lived helper container that
 * mounts it), verified THERE (the helper hashes every file with sha256 and prints the digests)
 * against the source's snapshot manifest, and removed there with the lane. The helper runs the
 * lane's own image (it has node, and it is on that host already): no other image to ship.
 */

export const HELPER_LABEL = 'wvo.state-helper';

export function stateVolumeName(project: string, lane: string): string {
  return `${project}-state-${lane}`;
}

export interface FileDigest {
  path: string;
  size: number;
  sha256: string;
}

/**
 * Run on the engine's host by the helper (node -e): hand /state to the lane's uid:gid and print
 * every file's size and sha256 as JSON. Kept dependency-free and small; argv: uid gid.
 */
const HASH_SCRIPT = `
const fs = require('fs'), path = require('path'), crypto = require('crypto');
const [uid, gid] = process.argv.slice(1).map(Number);
const root = '${STATE_MOUNT}', out = [];
const walk = (dir) => {
  fs.lchownSync(dir, uid, gid);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { walk(p); continue; }
    fs.lchownSync(p, uid, gid);
    if (!e.isFile()) continue;
    const data = fs.readFileSync(p);
    out.push({ path: path.relative(root, p), size: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') });
  }
};
walk(root);
process.stdout.write(JSON.stringify(out));
`;

/** What the copy must hold: the snapshot manifest's files when the dir has one, else every file as it is now. */
export async function expectedDigests(dir: string): Promise<{ files: FileDigest[]; source: 'manifest' | 'computed' }> {
  if (existsSync(join(dir, MANIFEST_FILE))) {
    return { files: readManifest(dir).files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })), source: 'manifest' };
  }
  const files: FileDigest[] = [];
  for (const path of await listFiles(dir)) {
    const stat = await fs.stat(join(dir, path));
    files.push({ path, size: stat.size, sha256: await sha256File(join(dir, path)) });
  }
  return { files, source: 'computed' };
}

async function listFiles(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(root, path)));
    else if (entry.isFile()) out.push(relative(root, path).split(sep).join('/'));
  }
  return out.sort();
}

/** Files that differ between what should be there and what the host computed (pure). */
export function compareDigests(expected: readonly FileDigest[], actual: readonly FileDigest[]): string[] {
  const there = new Map(actual.map((f) => [f.path, f]));
  const problems: string[] = [];
  for (const file of expected) {
    const got = there.get(file.path);
    if (!got) problems.push(`${file.path}: missing`);
    else if (got.size !== file.size) problems.push(`${file.path}: ${got.size} bytes, expected ${file.size}`);
    else if (got.sha256 !== file.sha256) problems.push(`${file.path}: sha256 ${got.sha256.slice(0, 12)}…, expected ${file.sha256.slice(0, 12)}…`);
  }
  return problems;
}

async function* tarEntries(dir: string, uid: number, gid: number): AsyncGenerator<TarEntry> {
  for (const path of await listFiles(dir)) {
    const stat = await fs.stat(join(dir, path));
    yield { type: 'file', path, mode: stat.mode & 0o777, size: stat.size, source: join(dir, path), uid, gid };
  }
}

export interface PrepareStateOptions {
  project: string;
  lane: string;
  /** An image on `host` that has node (the lane's own). */
  image: string;
  sourceDir: string;
  user: { uid: number; gid: number };
}

export interface PreparedState {
  volume: string;
  host: string;
  files: number;
  bytes: number;
  /** Whether the digests came from the snapshot's manifest or were computed from the source now. */
  checkedAgainst: 'manifest' | 'computed';
  durationMs: number;
}

/** `binds` replaces the one state mount; `capAdd` adds to chown's (the live snapshot drops to the lane's user). */
export function helperOptions(
  host: DockerHost,
  options: { project: string; lane: string; image: string; volume: string },
  cmd: string[],
  readOnly: boolean,
  extra: { binds?: string[]; capAdd?: string[] } = {},
): ContainerCreateOptions {
  return {
    Image: options.image,
    Entrypoint: ['node'],
    Cmd: cmd,
    // Root inside the helper only, to hand the files to the lane's user; no network, no capabilities beyond chown.
    User: '0:0',
    // Not `wvo.managed`: a helper must never be listed as a lane.
    Labels: { [LABELS.project]: options.project, [LABELS.lane]: options.lane, [HELPER_LABEL]: '1', [LABELS.host]: host.name },
    HostConfig: {
      Binds: extra.binds ?? [`${options.volume}:${STATE_MOUNT}:${readOnly ? 'ro' : 'rw'}`],
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      CapAdd: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', ...(extra.capAdd ?? [])],
      SecurityOpt: ['no-new-privileges'],
    },
  };
}

export async function readHelperOutput(container: { logs(o: object): Promise<unknown> }): Promise<string> {
  return (await readHelperStreams(container)).stdout;
}

/** Both streams of a finished helper (stderr says why it failed). */
export async function readHelperStreams(container: { logs(o: object): Promise<unknown> }): Promise<{ stdout: string; stderr: string }> {
  const raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as Buffer;
  return demuxDockerLogs(raw);
}

/** A volume's labels on `host`, or undefined when there is none by that name. */
export async function inspectStateVolume(host: DockerHost, volume: string): Promise<{ Labels?: Record<string, string> } | undefined> {
  return (await host.docker
    .getVolume(volume)
    .inspect()
    .catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw error;
    })) as { Labels?: Record<string, string> } | undefined;
}

/**
 * Copy `sourceDir` into a new volume on `host`, verify it there, and return it. Anything that
 * fails removes what it made. A volume that already exists is refused (it may hold a live lane's
 * state): WVO_STATE_REMOTE_EXISTS.
 */
export async function prepareRemoteState(host: DockerHost, options: PrepareStateOptions): Promise<PreparedState> {
  return copyStateToVolume(host, options, stateVolumeName(options.project, options.lane), { [LABELS.lane]: options.lane });
}

/** The copy itself, into `volume` (which must not exist yet); `labels` add to project, image and source. */
export async function copyStateToVolume(host: DockerHost, options: PrepareStateOptions, volume: string, labels: Record<string, string>): Promise<PreparedState> {
  const started = Date.now();
  const expected = await expectedDigests(options.sourceDir);
  if (await inspectStateVolume(host, volume)) {
    throw new RuntimeError('WVO_STATE_REMOTE_EXISTS', `state volume ${volume} already exists on host "${host.name}"`, {
      subject: volume,
      hint: `It may hold a live lane's state: compare it (wvo parity host:${host.name}:${volume}/FILE …), then remove it on that host (docker volume rm ${volume}) or pick another lane name.`,
      details: { host: host.name, volume },
    });
  }
  await host.docker.createVolume({
    Name: volume,
    // Not `wvo.managed`: a helper must never be listed as a lane.
    Labels: { [LABELS.project]: options.project, ...labels, [LABELS.image]: options.image, [LABELS.state]: options.sourceDir },
  });
  const context = { project: options.project, lane: options.lane, image: options.image, volume };
  let helper: Awaited<ReturnType<typeof host.docker.createContainer>> | undefined;
  try {
    helper = await host.docker.createContainer(helperOptions(host, context, ['-e', HASH_SCRIPT, String(options.user.uid), String(options.user.gid)], false));
    const counter = { bytes: 0 };
    await helper.putArchive(packTar(tarEntries(options.sourceDir, options.user.uid, options.user.gid), counter), { path: STATE_MOUNT });
    await helper.start();
    const exit = (await helper.wait()) as { StatusCode: number };
    const output = await readHelperOutput(helper);
    if (exit.StatusCode !== 0) throw new Error(`the hashing helper exited ${exit.StatusCode}`);
    const problems = compareDigests(expected.files, JSON.parse(output) as FileDigest[]);
    if (problems.length) {
      throw new RuntimeError('WVO_STATE_VERIFY_FAILED', `state copied to host "${host.name}" (volume ${volume}) does not match ${expected.source === 'manifest' ? 'the snapshot manifest' : 'the source'}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`, {
        subject: options.sourceDir,
        hint: 'The copy was removed. Check the disk on that host and retry; if the source was being written, copy a snapshot instead.',
        details: { host: host.name, volume, problems: problems.slice(0, 20) },
      });
    }
    return { volume, host: host.name, files: expected.files.length, bytes: counter.bytes, checkedAgainst: expected.source, durationMs: Date.now() - started };
  } catch (error) {
    await helper?.remove({ force: true }).catch(() => undefined);
    helper = undefined;
    await removeRemoteState(host, volume);
    throw error;
  } finally {
    await helper?.remove({ force: true }).catch(() => undefined);
  }
}

/** `host:HOST:VOLUME/FILE`, a file in a state volume on a config host (`wvo parity`). */
export interface RemoteStatePath {
  host: string;
  volume: string;
  file: string;
}

/** Parse `host:HOST:VOLUME/FILE` (pure); other strings are not remote paths (undefined). */
export function parseRemoteStatePath(arg: string): RemoteStatePath | undefined {
  if (!arg.startsWith('host:')) return undefined;
  const match = /^host:([a-z0-9][a-z0-9_.-]{0,62}):([A-Za-z0-9][A-Za-z0-9_.-]*)\/([^/].*)$/.exec(arg);
  if (!match || match[3]!.split('/').some((part) => part === '..' || part === '')) {
    throw new RuntimeError('WVO_REMOTE_PATH_INVALID', `"${arg}" is not host:HOST:VOLUME/FILE`, {
      subject: arg,
      hint: 'e.g. host:hostb:wvo-state-blue/orchestrator.db (HOST from config hosts, VOLUME <project>-state-<lane>).',
      exitCode: 2,
    });
  }
  return { host: match[1]!, volume: match[2]!, file: match[3]! };
}

/** Remove a lane's state volume on its host (idempotent). */
export async function removeRemoteState(host: DockerHost, volume: string): Promise<void> {
  try {
    await host.docker.getVolume(volume).remove({ force: true });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/**
 * Fetch `file` (and its SQLite -wal, when there is one) from a state volume on `host` into
 * `destDir`, through `getArchive` on a helper that mounts the volume read-only. Returns the local path.
 */
export async function fetchRemoteStateFile(host: DockerHost, volume: string, file: string, destDir: string): Promise<string> {
  const info = await host.docker
    .getVolume(volume)
    .inspect()
    .catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
  const image = info?.Labels?.[LABELS.image];
  if (!info || !image) {
    throw new RuntimeError('WVO_REMOTE_PATH_INVALID', `no wvo state volume ${volume} on host "${host.name}"`, {
      subject: `host:${host.name}:${volume}/${file}`,
      hint: 'List them on that host: docker volume ls --filter label=wvo.managed=1',
    });
  }
  const helper = await host.docker.createContainer(helperOptions(host, { project: info.Labels[LABELS.project] ?? '', lane: info.Labels[LABELS.lane] ?? '', image, volume }, ['-e', ''], true));
  try {
    const wanted = new Set([file, `${file}-wal`].map((f) => f.split('/').pop()!));
    let found = false;
    for (const name of [file, `${file}-wal`]) {
      let archive: NodeJS.ReadableStream;
      try {
        archive = await helper.getArchive({ path: `${STATE_MOUNT}/${name}` });
      } catch (error) {
        if (isNotFound(error)) continue;
        throw error;
      }
      await extractTar(archive, (path) => (wanted.has(path) ? createWriteStream(join(destDir, path)) : undefined));
      if (name === file) found = true;
    }
    if (!found) {
      throw new RuntimeError('WVO_REMOTE_PATH_INVALID', `no file ${file} in volume ${volume} on host "${host.name}"`, {
        subject: `host:${host.name}:${volume}/${file}`,
        hint: 'Name a file at the top of the state dir (e.g. orchestrator.db).',
      });
    }
    return join(destDir, file.split('/').pop()!);
  } finally {
    await helper.remove({ force: true }).catch(() => undefined);
  }
}
