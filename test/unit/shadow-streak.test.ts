import { describe, expect, it } from 'vitest';
import { shadowDiffStreak } from '../../controller/src/operations/index.js';
import type { UpgradeSummary } from '../../controller/src/promotion/index.js';
import { upgradeSummary } from './promotion-fixtures.js';

const run = (shadowDiffs: number | null | undefined, outcome = 'warnings'): UpgradeSummary => ({
  ...upgradeSummary(),
  outcome,
  ...(shadowDiffs === undefined ? {} : { shadowDiffs }),
});

describe('shadowDiffStreak (wvo_shadow_diff_consecutive_runs)', () => {
  it('counts runs with differences in a row, newest first, up to the first clean one', () => {
    expect(shadowDiffStreak([])).toBe(0);
    expect(shadowDiffStreak([run(3), run(1), run(0, 'passed'), run(5)])).toBe(2);
    expect(shadowDiffStreak([run(0, 'passed'), run(3), run(3), run(3)])).toBe(0);
    expect(shadowDiffStreak([run(1), run(2), run(3)])).toBe(3);
  });

  it('passes over runs that failed before their shadow step; reads older records from their outcome', () => {
    expect(shadowDiffStreak([run(2), run(null, 'failed'), run(4), run(1)])).toBe(3);
    expect(shadowDiffStreak([run(undefined, 'warnings'), run(undefined, 'passed'), run(2)])).toBe(1);
    expect(shadowDiffStreak([run(undefined, 'failed'), run(undefined, 'warnings')])).toBe(1);
  });
});
