import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import type { Clock } from '../../../../common/src/clock.js';
import { acquireLock, LOCK_FILE, releaseOnSignals } from '../lock.js';
import type { HeldLock } from './run-resources.js';
import type { UpgradeStep } from './step.js';

export interface LockInput {
  id: string;
  stateRoot: string;
  projectRoot: string;
  clock: Clock;
  /** Receives the lock as soon as it is held (RunResources releases it however the run ends). */
  hold: (lock: HeldLock) => void;
}

/** One upgrade at a time per state directory (DESIGN §4 step 2); a crash or signal releases it. */
export const lockStep: UpgradeStep<LockInput, void> = {
  name: 'lock',
  async run({ id, stateRoot, projectRoot, clock, hold }) {
    mkdirSync(stateRoot, { recursive: true });
    const lock = acquireLock(stateRoot, { id, clock, host: hostname() });
    const unhookSignals = releaseOnSignals(lock);
    hold({
      release: () => {
        lock.release();
        unhookSignals();
      },
    });
    return { detail: { lock: relative(projectRoot, join(stateRoot, LOCK_FILE)) }, output: undefined };
  },
};
