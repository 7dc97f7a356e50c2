import { promises as fs, realpathSync } from 'node:fs';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { RuntimeError } from '../errors.js';
import { packTar, type TarEntry } from './tar-pack.js';

/**
 * The offline Node base image (ENGINE.md): no registry here, so a rootfs is assembled from the
 * host's own node binary and the shared libraries `ldd` lists, plus /etc/passwd and /etc/group
 * with a non-root `node` user (uid 1000, as in the official image), and imported. Native addons
 * built on the host run in it because its libc is the host's.
 */

export const BASE_USER = { name: 'node', uid: 1000, gid: 1000 } as const;

/** Paths of the shared libraries (and the loader) from `ldd` output (pure). */
export function parseLdd(output: string): string[] {
  const paths = new Set<string>();
  for (const line of output.split('\n')) {
    const arrow = /=>\s+(\/\S+)/.exec(line);
    const bare = /^\s*(\/\S+)\s+\(/.exec(line);
    const path = arrow?.[1] ?? bare?.[1];
    if (path) paths.add(path);
  }
  return [...paths].sort();
}

/** Directory entries for every parent of `paths` (pure, parents first). */
export function parentDirs(paths: string[]): string[] {
  const dirs = new Set<string>();
  for (const path of paths) {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

export interface BaseRootfs {
  node: string;
  libraries: string[];
  entries: TarEntry[];
}

/** The rootfs of the base image, as tar entries (files are read from the host at pack time). */
export async function baseRootfs(nodeBinary = process.execPath): Promise<BaseRootfs> {
  const { stdout } = await execa('ldd', [nodeBinary], { reject: false });
  const libraries = parseLdd(stdout);
  if (libraries.length === 0) {
    throw new RuntimeError('WVO_BASE_IMAGE_FAILED', `ldd ${nodeBinary} listed no libraries (is node statically linked or ldd missing?)`, {
      subject: nodeBinary,
      hint: 'Pass an image that exists locally with --node-image (or config images.nodeImage).',
    });
  }
  const files = [nodeBinary, ...libraries];
  const entries: TarEntry[] = [];
  for (const dir of parentDirs([...files, '/etc/passwd', '/home/.keep'])) entries.push({ type: 'dir', path: dir, mode: 0o755 });
  entries.push({ type: 'dir', path: 'tmp', mode: 0o1777 });
  entries.push({ type: 'dir', path: 'home/node', mode: 0o755, uid: BASE_USER.uid, gid: BASE_USER.gid });
  for (const file of files) {
    // Libraries are usually symlinks (libc.so.6 → libc-2.36.so): ship the target's bytes at the listed path.
    const real = realpathSync(file);
    const stat = await fs.stat(real);
    entries.push({ type: 'file', path: file.replace(/^\//, ''), mode: stat.mode & 0o755, size: stat.size, source: real });
  }
  const passwd = `root:x:0:0:root:/root:/sbin/nologin\n${BASE_USER.name}:x:${BASE_USER.uid}:${BASE_USER.gid}:node:/home/node:/sbin/nologin\n`;
  const group = `root:x:0:\n${BASE_USER.name}:x:${BASE_USER.gid}:\n`;
  entries.push({ type: 'file', path: 'etc/passwd', content: Buffer.from(passwd) });
  entries.push({ type: 'file', path: 'etc/group', content: Buffer.from(group) });
  return { node: nodeBinary, libraries, entries };
}

/** `wvo-node-base:<node version>` (the host's node: its ABI is what the installed addons target). */
export function baseImageTag(repository: string, nodeVersion = process.versions.node): string {
  return `${repository}:${nodeVersion}`;
}

async function drain(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString();
  return text;
}

/** Build (import) the base image unless it exists. Returns its tag. */
export async function ensureBaseImage(docker: Docker, repository: string, options: { force?: boolean } = {}): Promise<{ tag: string; built: boolean; id: string }> {
  const tag = baseImageTag(repository);
  if (!options.force) {
    try {
      const info = await docker.getImage(tag).inspect();
      return { tag, built: false, id: info.Id };
    } catch {
      /* build it */
    }
  }
  const rootfs = await baseRootfs();
  const [repo, version] = [repository, process.versions.node];
  try {
    const stream = await docker.importImage(packTar(rootfs.entries), {
      repo,
      tag: version,
      changes: ['ENV PATH=/usr/local/bin:/usr/bin:/bin', 'LABEL wvo.base=1', `USER ${BASE_USER.uid}:${BASE_USER.gid}`],
    } as unknown as Record<string, unknown>);
    const output = await drain(stream);
    if (/"error"/.test(output)) throw new Error(output.slice(-500));
    const info = await docker.getImage(tag).inspect();
    return { tag, built: true, id: info.Id };
  } catch (error) {
    throw new RuntimeError('WVO_BASE_IMAGE_FAILED', `importing the offline base image ${tag} failed: ${(error as Error).message}`, {
      subject: tag,
      hint: 'Check that the engine answers (wvo hosts check) and has disk space.',
      cause: error,
    });
  }
}
