import type { StepName } from '../steps.js';
import type { UpgradeStep } from './step.js';

/** A step an image-to-image upgrade does not run, recorded `skipped` with why. */
export function skippedStep(name: StepName, reason: string): UpgradeStep<void, void> {
  return {
    name,
    async run() {
      return { status: 'skipped', detail: { reason }, output: undefined };
    },
  };
}
