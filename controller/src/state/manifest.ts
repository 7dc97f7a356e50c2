import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SNAPSHOT_METHODS } from './sqlite-copy.js';
import { stateErrors } from './errors.js';

/** A snapshot's own description, written last: a snapshot without it is incomplete. */
export const MANIFEST_FILE = 'manifest.json';

export const SNAPSHOT_FILE_KINDS = ['sqlite', 'file'] as const;
export type SnapshotFileKind = (typeof SNAPSHOT_FILE_KINDS)[number];

export const SqliteFacts = z.strictObject({
  page_count: z.number().int().nonnegative(),
  page_size: z.number().int().positive(),
  user_version: z.number().int(),
  journal_mode: z.string(),
});
export type SqliteFacts = z.infer<typeof SqliteFacts>;

export const SnapshotFile = z.strictObject({
  /** Relative to the snapshot root, `/`-separated. */
  path: z.string().min(1),
  kind: z.enum(SNAPSHOT_FILE_KINDS),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  sqlite: SqliteFacts.optional(),
});
export type SnapshotFile = z.infer<typeof SnapshotFile>;

export const SnapshotManifest = z.strictObject({
  version: z.literal(1),
  taken_at: z.iso.datetime(),
  source_root: z.string(),
  method: z.enum(SNAPSHOT_METHODS),
  files: z.array(SnapshotFile),
});
export type SnapshotManifest = z.infer<typeof SnapshotManifest>;

/** Read a snapshot's manifest back through its schema. */
export function readManifest(snapshotRoot: string): SnapshotManifest {
  const path = join(snapshotRoot, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw stateErrors.create('WVO_SNAPSHOT_MANIFEST_INVALID', `snapshot manifest unreadable: ${path}`, {
      subject: path,
      hint: 'The snapshot is incomplete or damaged; take a new one.',
      cause: error,
    });
  }
  const parsed = SnapshotManifest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw stateErrors.create('WVO_SNAPSHOT_MANIFEST_INVALID', `snapshot manifest invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`, {
      subject: path,
      hint: 'The snapshot is incomplete or damaged; take a new one.',
    });
  }
  return parsed.data;
}
