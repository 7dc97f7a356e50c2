import { cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../common/src/logger.js';
import { isWvoError } from '../../../common/src/errors.js';
import { SNAPSHOT_EXCLUDE } from '../harness/index.js';
import { takeSnapshot } from '../state/index.js';
import type { CheckpointCopies, LaneDirs } from './checkpoint-parity.js';
import { soakErrors } from './errors.js';

/**
 * Consistent copies of both lanes' state (the state room's snapshot), which a crashed lane
 * restarts from. Not integrity-checked here: `verifyCheckpoint` does it off the event loop, and a
 * checkpoint is recorded (so restarted from) only once that passed.
 */
export async function saveCheckpointCopies(dirs: LaneDirs, dest: string, logger: Logger): Promise<CheckpointCopies> {
  const out = { replica: join(dest, 'replica'), candidate: join(dest, 'candidate') };
  const sqlite: string[] = [];
  try {
    await mkdir(dest, { recursive: true });
    for (const key of ['replica', 'candidate'] as const) {
      const taken = await takeSnapshot({ sourceRoot: dirs[key], destRoot: out[key], exclude: SNAPSHOT_EXCLUDE, logger, checkIntegrity: false });
      sqlite.push(...taken.manifest.files.filter((file) => file.kind === 'sqlite').map((file) => join(out[key], file.path)));
    }
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
  return { ...out, sqlite };
}

/** A lane's directory back to a checkpoint's copy. */
export async function restoreLaneDir(from: string, to: string): Promise<void> {
  await rm(to, { recursive: true, force: true });
  await cp(from, to, { recursive: true });
}
