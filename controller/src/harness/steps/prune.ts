import { isWvoError } from '../../../../common/src/errors.js';
import type { Logger } from '../../../../common/src/logger.js';
import type { StagedPruneSummary, UpgradeContext } from '../upgrade-context.js';
import type { LaneImages } from './build.js';
import type { Say } from './step.js';

export interface PruneInput {
  prune: NonNullable<UpgradeContext['pruneStaged']>;
  /** This run's images: never pruned. */
  images: LaneImages;
  logger: Logger;
  say: Say;
}

/**
 * The end-of-run prune of staged images/trees and dead caches, after a run that did not fail.
 * Not a recorded step: disk hygiene never fails an upgrade that passed, so a throw is a warning.
 */
export async function pruneAfterRun({ prune, images, logger, say }: PruneInput): Promise<StagedPruneSummary> {
  const protect = [images.candidateImage, images.baselineImage].filter((ref) => Boolean(ref));
  try {
    const summary = await prune(protect, say);
    logger.info({ removed: summary.removed, bytes_freed: summary.bytesFreed }, 'pruned staged images and caches');
    return summary;
  } catch (error) {
    const message = isWvoError(error) ? `${error.code}: ${error.message}` : String((error as Error).message ?? error);
    logger.warn({ err: error }, 'could not prune staged images');
    say(`warning: ${message}`);
    return { removed: [], kept: 0, skipped: 0, bytesFreed: 0, warning: message };
  }
}
