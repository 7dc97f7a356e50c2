import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { diskUsage } from './disk-usage.js';

/**
 * Directories we make and may delete (staged trees, caches, upgrade stages): listed with size
 * and age, removed by renaming first, so a crash mid-removal never leaves a half tree that looks
 * reusable, only a `.pruning-*` leftover the next listing reports.
 */
export const PRUNING_PREFIX = '.pruning-';

export interface DisposableDir {
  path: string;
  name: string;
  mtimeMs: number;
  /** du of the directory (hard-linked files once). */
  bytes: number;
  /** `.pruning-*`: left by an interrupted removal; renamed away already, nothing can use it. */
  interrupted: boolean;
}

/** Direct subdirectories (never symlinks) of `root`; with `prefix`, only names starting with it (or its `.pruning-` form). */
export async function listDisposableDirs(root: string, prefix = ''): Promise<DisposableDir[]> {
  const entries = await fs.readdir(root, { withFileTypes: true }).catch(() => []);
  const out: DisposableDir[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const interrupted = entry.name.startsWith(`${PRUNING_PREFIX}${prefix}`);
    if (!interrupted && !entry.name.startsWith(prefix)) continue;
    const path = join(root, entry.name);
    const stat = await fs.lstat(path);
    out.push({ path, name: entry.name, mtimeMs: stat.mtimeMs, bytes: await diskUsage(path), interrupted });
  }
  return out;
}

/**
 * Remove `path`, only if it is a directory directly under one of `parents`: renamed away first,
 * then deleted. Returns why it refused, or undefined when it is gone (or was already).
 */
export async function removeDisposableDir(path: string, parents: readonly string[], relativeTo: string): Promise<string | undefined> {
  const parent = dirname(path);
  if (!parents.includes(parent)) return `refused: ${path} is not directly under ${parents.map((p) => relative(relativeTo, p)).join(', ')}`;
  const stat = await fs.lstat(path).catch(() => undefined);
  if (!stat) return undefined;
  if (!stat.isDirectory()) return `refused: ${path} is not a directory`;
  const name = basename(path);
  const doomed = name.startsWith(PRUNING_PREFIX) ? path : join(parent, `${PRUNING_PREFIX}${name}-${randomBytes(3).toString('hex')}`);
  if (doomed !== path) await fs.rename(path, doomed);
  await fs.rm(doomed, { recursive: true, force: true });
  return undefined;
}
