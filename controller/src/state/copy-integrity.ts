import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { MANIFEST_FILE, type SnapshotManifest } from './manifest.js';
import { sha256File } from './snapshot.js';

export const COPY_CHANGE_KINDS = ['changed', 'added', 'removed'] as const;
export type CopyChangeKind = (typeof COPY_CHANGE_KINDS)[number];

export interface CopyChange {
  /** Relative to the copy's root, `/`-separated. */
  readonly path: string;
  readonly kind: CopyChangeKind;
}

/**
 * Re-hash a snapshot copy against the manifest it was made from: every file it holds must be in
 * the manifest with the same sha256, and every manifest file must still be there. Any side file
 * (`-wal`, `-shm`, a journal) counts as added: a lane that never writes never opens the file for
 * writing, so none can appear. `manifest.json` itself is the copy's description, not state.
 */
export async function copyChanges(root: string, manifest: Pick<SnapshotManifest, 'files'>): Promise<CopyChange[]> {
  const expected = new Map(manifest.files.map((file) => [file.path, file.sha256]));
  const present = await listFiles(root);
  const changes: CopyChange[] = [];
  for (const path of present) {
    if (path === MANIFEST_FILE) continue;
    const sha = expected.get(path);
    if (sha === undefined) changes.push({ path, kind: 'added' });
    else if ((await sha256File(join(root, path))) !== sha) changes.push({ path, kind: 'changed' });
  }
  const seen = new Set(present);
  for (const path of expected.keys()) if (!seen.has(path)) changes.push({ path, kind: 'removed' });
  return changes.sort((a, b) => a.path.localeCompare(b.path));
}

/** Every file (and empty folder) under `root`, relative; a missing root holds nothing. */
async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    // A folder the snapshot never made (it makes folders only for files) shows as `name/`.
    if (entries.length === 0 && dir !== root) out.push(`${relative(root, dir).split(sep).join('/')}/`);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.push(relative(root, path).split(sep).join('/'));
    }
  };
  await walk(root);
  return out.sort();
}
