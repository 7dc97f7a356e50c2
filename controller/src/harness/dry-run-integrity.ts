import { copyChanges, type CopyChange, type SnapshotManifest } from '../state/index.js';
import { harnessErrors } from './errors.js';

/** A lane that ran in strict DRY_RUN, and the files its directory must still hold. */
export interface DryRunCopy {
  readonly lane: string;
  readonly stateDir: string;
  /** The snapshot's manifest, or no files for an empty (fresh-state) directory. */
  readonly manifest: Pick<SnapshotManifest, 'files'>;
}

export interface DryRunIntegrity {
  /** Lanes whose copies were re-hashed. */
  readonly checked: string[];
  readonly files: number;
}

/**
 * DRY_RUN's contract, verified (issue 10 item 5): after its lane stopped, each copy is re-hashed
 * against the snapshot manifest. Any changed, added or removed file is a hard failure naming the
 * lane and the file: a lane that claims never to write wrote.
 */
export async function checkDryRunCopies(copies: readonly DryRunCopy[]): Promise<DryRunIntegrity> {
  const found: { lane: string; stateDir: string; changes: CopyChange[] }[] = [];
  for (const copy of copies) {
    const changes = await copyChanges(copy.stateDir, copy.manifest);
    if (changes.length > 0) found.push({ lane: copy.lane, stateDir: copy.stateDir, changes });
  }
  const first = found[0];
  if (first) {
    const list = found.map((f) => `${f.lane}: ${f.changes.map((c) => `${c.path} ${c.kind}`).join(', ')}`).join('; ');
    throw harnessErrors.create('WVO_DRY_RUN_WROTE', `a strict DRY_RUN lane wrote its state: ${list}`, {
      subject: `${first.lane}: ${first.changes[0]!.path}`,
      hint: 'A DRY_RUN worker must never write the state it is given (e.g. through a second SQLite connection); fix the worker. No summary was written.',
      details: { lanes: found.map((f) => ({ lane: f.lane, state_dir: f.stateDir, changes: f.changes })) },
    });
  }
  return { checked: copies.map((copy) => copy.lane), files: copies.reduce((n, copy) => n + copy.manifest.files.length, 0) };
}
