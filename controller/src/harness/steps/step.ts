import type { StepName, StepOutcome } from '../steps.js';

/** A step's progress line (an `UpgradeEvent` of type `message`). */
export type Say = (message: string) => void;

/** What a step returns: how it went (status, steps.json detail) and what later steps need. */
export interface StepDone<O> extends StepOutcome {
  output: O;
}

/**
 * One step of `wvo upgrade`, after argo-rollouts' reconcile steps: typed input built from the
 * outputs of earlier steps, typed output for later ones, nothing shared. To add a step: a file in
 * this folder exporting an `UpgradeStep`, its name in `STEP_NAMES` (../steps.ts), and one
 * `runner.run(step, input)` line in ../upgrade.ts where it belongs in the order.
 */
export interface UpgradeStep<I, O> {
  readonly name: StepName;
  run(input: I, say: Say): Promise<StepDone<O>>;
}
