import { mkdirSync } from 'node:fs';
import type { Clock } from '../../../../common/src/clock.js';
import type { Logger } from '../../../../common/src/logger.js';
import type { LaneRuntime } from '../../runtime/index.js';
import { CONTROLLER_DB_FILE } from '../../promotion/index.js';
import { snapshotCopies, SQLITE_SIDE_SUFFIXES, type SnapshotManifest } from '../../state/index.js';
import { LOCK_FILE } from '../lock.js';
import type { SnapshotCopies } from './layout.js';
import type { UpgradeStep } from './step.js';

/**
 * Not the worker's state, so never in a lane's copy: the lock; analytics/ (summaries such as
 * upgrade_shadow.json, which a shadow lane would otherwise report back as its own); runtime/
 * (local-runtime lane records); and the controller's own database with its side files.
 */
export const SNAPSHOT_EXCLUDE = [
  LOCK_FILE,
  'analytics',
  'runtime',
  CONTROLLER_DB_FILE,
  ...SQLITE_SIDE_SUFFIXES.map((suffix) => `${CONTROLLER_DB_FILE}${suffix}`),
] as const;

export interface SnapshotInput {
  stateRoot: string;
  copies: SnapshotCopies;
  /**
   * The run's runtime and a local dir: when the live lane's state is a volume on its host, the
   * snapshot is taken there (LaneRuntime.snapshotLiveState) into `liveDir`, and the copies are made
   * from that instead of `stateRoot` (which then holds only what the volume was seeded from).
   */
  live?: { runtime: Pick<LaneRuntime, 'snapshotLiveState'>; liveDir: string };
  logger: Logger;
  clock: Clock;
}

export interface SnapshotOutput {
  copies: SnapshotCopies;
  /** What every copy held when it was made: the shadow re-hashes strict DRY_RUN copies against it. */
  manifest: SnapshotManifest;
}

/** One consistent moment of the live state, copied once per lane (DESIGN §4 step 6). */
export const snapshotStep: UpgradeStep<SnapshotInput, SnapshotOutput> = {
  name: 'snapshot',
  async run({ stateRoot, copies, live, logger, clock }) {
    mkdirSync(stateRoot, { recursive: true });
    const remote = await live?.runtime.snapshotLiveState?.({ destDir: live.liveDir, exclude: SNAPSHOT_EXCLUDE });
    const snap = await snapshotCopies({
      sourceRoot: remote?.root ?? stateRoot,
      destRoots: Object.values(copies),
      logger,
      clock,
      exclude: SNAPSHOT_EXCLUDE,
    });
    const { manifest } = snap;
    return {
      detail: {
        // Where the moment was taken: the live volume on its host, or this machine's state root.
        source: remote
          ? { kind: 'live-volume', host: remote.host, volume: remote.volume, image: remote.image, files: remote.files, bytes: remote.bytes, duration_ms: remote.durationMs }
          : { kind: 'state-root', root: stateRoot },
        copies: snap.copies.length,
        files: manifest.files.length,
        bytes: manifest.files.reduce((sum, f) => sum + f.size, 0),
        taken_at: manifest.taken_at,
        duration_ms: snap.duration_ms,
      },
      output: { copies, manifest },
    };
  },
};
