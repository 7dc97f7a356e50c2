import { existsSync, rmSync } from 'node:fs';
import type { Logger } from '../../../../common/src/logger.js';
import type { LaneRuntime } from '../../runtime/index.js';
import { LaneTracker } from './lane-tracker.js';

/** The upgrade lock as a run holds it: releasing it also drops its signal handlers. */
export interface HeldLock {
  release(): void;
}

export interface RunResourcesOptions {
  runtime: LaneRuntime;
  logger: Logger;
  stageRoot: string;
  keepStage: boolean;
}

/**
 * What a run holds that must be given back however it ends (passed, failed, Ctrl-C): its lanes,
 * its stage directory and its lock, released in that order.
 */
export class RunResources {
  readonly lanes: LaneTracker;
  private lock: HeldLock | undefined;

  constructor(private readonly o: RunResourcesOptions) {
    this.lanes = new LaneTracker(o.runtime, o.logger);
  }

  /** Called by the lock step the moment it holds the lock, so no later throw can leak it. */
  holdLock(lock: HeldLock): void {
    this.lock = lock;
  }

  async release(): Promise<void> {
    await this.lanes.removeAll();
    if (!this.o.keepStage && existsSync(this.o.stageRoot)) rmSync(this.o.stageRoot, { recursive: true, force: true });
    this.lock?.release();
  }
}
