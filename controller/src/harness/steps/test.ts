import { runStagedTests } from '../build.js';
import type { UpgradeOptions } from '../options.js';
import type { StageResult } from '../stage.js';
import type { UpgradeStep } from './step.js';

export interface TestInput {
  options: Pick<UpgradeOptions, 'skipTests' | 'testCommand'>;
  candidate: StageResult;
}

/** The candidate's own tests, run in its stage; --skip-tests records why they did not run. */
export const testStep: UpgradeStep<TestInput, void> = {
  name: 'test',
  async run({ options, candidate }) {
    if (options.skipTests) {
      return { status: 'skipped', detail: { reason: '--skip-tests (promotion will refuse this run)' }, output: undefined };
    }
    const tests = await runStagedTests(candidate.dir, options.testCommand);
    return { detail: { command: tests.command, summary: tests.summary }, output: undefined };
  },
};
