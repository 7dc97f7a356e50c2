import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { diffLaneStates, stateSection, type SnapshotManifest, type StateDatabaseDiff, type StateSection } from '../state/index.js';

/**
 * Never compared: the migration ledger. A candidate's own migration adds its row there; what the
 * migration did is reported as the schema delta (additions listed, removals and changes counted)
 * and `user_version`, and whatever rows it wrote show in their own tables.
 */
export const SHADOW_STATE_IGNORE = ['schema_meta.*'] as const;

/** One pass's directories: the baseline's, its replicas', the candidate's. */
export interface PassDirs {
  readonly baseline: string;
  readonly replicas: readonly string[];
  readonly candidate: string;
}

export interface ShadowStateInput {
  /** The databases to compare: the snapshot's SQLite files. */
  readonly manifest: Pick<SnapshotManifest, 'files'>;
  readonly snapshot: PassDirs;
  /** The fresh-state pass's directories; its databases are named `fresh/<file>`. */
  readonly fresh?: PassDirs;
}

/**
 * The lanes' databases after the suite (issue 10 item 4), read once every lane has stopped (its
 * WAL checkpointed): per database, candidate vs baseline with the replicas as noise. The fresh
 * pass compares the databases each version created from nothing; a file some lane lacks there is
 * left out (the answers already show a version that cannot start on an empty state).
 */
export function diffShadowState(input: ShadowStateInput): StateSection {
  const files = input.manifest.files.filter((file) => file.kind === 'sqlite').map((file) => file.path);
  const diffs: StateDatabaseDiff[] = files.map((file) => diffPass(input.snapshot, file, file));
  if (input.fresh) {
    const fresh = input.fresh;
    const everywhere = (file: string) => [fresh.baseline, ...fresh.replicas, fresh.candidate].every((dir) => existsSync(join(dir, file)));
    for (const file of files.filter(everywhere)) diffs.push(diffPass(fresh, file, `fresh/${file}`));
  }
  return stateSection(diffs);
}

function diffPass(dirs: PassDirs, file: string, database: string): StateDatabaseDiff {
  return diffLaneStates(
    { baseline: join(dirs.baseline, file), replicas: dirs.replicas.map((dir) => join(dir, file)), candidate: join(dirs.candidate, file) },
    { database, ignore: SHADOW_STATE_IGNORE },
  );
}
