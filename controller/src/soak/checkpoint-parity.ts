import { join } from 'node:path';
import { checkCopyIntegrity, diffLaneStates, stateSection, type StateSection } from '../state/index.js';

// Kept apart from checkpoint.ts: the checkpoint-diff thread loads this file, and only what it needs.

/**
 * Never compared at a checkpoint: the migration ledger (a candidate's migration adds its row), and
 * the lanes' own bookkeeping: each fork's journal records its own answer digests (answer
 * differences are counted once, as answers), the floor, the live executor's records, and SQLite's
 * AUTOINCREMENT counters (a missing row shows in its own table).
 */
export const SOAK_STATE_IGNORE = ['schema_meta.*', 'journal.*', 'journal_floor.*', 'executor_runs.*', 'sqlite_sequence.*'] as const;

/** The two lanes' directories (or a checkpoint's copies of them). */
export interface LaneDirs {
  readonly replica: string;
  readonly candidate: string;
}

/**
 * Parity at a checkpoint, on the copies both lanes left at the same seq (the runner copies them
 * while idle, then replays on while this reads), table by table, candidate against the baseline
 * replica. The replica reproduces live byte for byte, so there are no noise samples: every
 * difference is reported, with its rows.
 */
export function checkpointParity(dirs: LaneDirs, database: string): StateSection {
  const diff = diffLaneStates(
    { baseline: join(dirs.replica, database), replicas: [], candidate: join(dirs.candidate, database) },
    { database, ignore: SOAK_STATE_IGNORE },
  );
  return stateSection([diff]);
}

/** A checkpoint's copies: both lanes' directories and the SQLite files in them (integrity-checked later, with the diff). */
export interface CheckpointCopies extends LaneDirs {
  readonly sqlite: readonly string[];
}

/**
 * The checkpoint's work after the copy, CPU-bound on better-sqlite3 (run in a worker thread by
 * checkpoint-diff.ts): `integrity_check` on every copied database, then parity.
 */
export function verifyCheckpoint(copies: CheckpointCopies, database: string): StateSection {
  for (const path of copies.sqlite) checkCopyIntegrity(path);
  return checkpointParity(copies, database);
}

