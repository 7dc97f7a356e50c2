import { cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../common/src/logger.js';
import { isWvoError } from '../../../common/src/errors.js';
import { SNAPSHOT_EXCLUDE } from '../harness/index.js';
import { diffLaneStates, stateSection, takeSnapshot, type StateSection } from '../state/index.js';
import { soakErrors } from './errors.js';

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

/** Consistent copies of both lanes' state (the state room's snapshot), which a crashed lane restarts from. */
export async function saveCheckpointCopies(dirs: LaneDirs, dest: string, logger: Logger): Promise<LaneDirs> {
  const out = { replica: join(dest, 'replica'), candidate: join(dest, 'candidate') };
  try {
    await mkdir(dest, { recursive: true });
    await takeSnapshot({ sourceRoot: dirs.replica, destRoot: out.replica, exclude: SNAPSHOT_EXCLUDE, logger });
    await takeSnapshot({ sourceRoot: dirs.candidate, destRoot: out.candidate, exclude: SNAPSHOT_EXCLUDE, logger });
  } catch (error) {
    await rm(dest, { recursive: true, force: true });
    if (isWvoError(error) && error.code === 'WVO_SNAPSHOT_DISK_FULL') {
      throw soakErrors.create('WVO_SOAK_DISK_FULL', `no space for the checkpoint copies under ${dest}`, {
        subject: dest,
        cause: error,
        hint: 'Free space where the soak keeps its forks (tmp/wv-soak-<id>/), then start the soak again; its record and diffs are kept.',
      });
    }
    throw error;
  }
  return out;
}

/** A lane's directory back to a checkpoint's copy. */
export async function restoreLaneDir(from: string, to: string): Promise<void> {
  await rm(to, { recursive: true, force: true });
  await cp(from, to, { recursive: true });
}
