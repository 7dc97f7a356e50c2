import { promises as fs } from 'node:fs';
import { join } from 'node:path';

/** `du -s` in bytes: each inode once (trees and caches share files through hard links), symlinks not followed. */
export async function diskUsage(root: string): Promise<number> {
  const seen = new Set<string>();
  let bytes = 0;
  const walk = async (path: string): Promise<void> => {
    const stat = await fs.lstat(path).catch(() => undefined);
    if (!stat) return;
    const inode = `${stat.dev}:${stat.ino}`;
    if (seen.has(inode)) return;
    seen.add(inode);
    bytes += stat.blocks * 512;
    if (stat.isDirectory()) for (const name of await fs.readdir(path).catch(() => [])) await walk(join(path, name));
  };
  await walk(root);
  return bytes;
}
