import type { UpgradeSummary } from '../promotion/index.js';

/**
 * How many of the most recent recorded upgrade runs (newest first), in a row, ended with shadow
 * differences (`wvo_shadow_diff_consecutive_runs`; the seed's alert: "count > 0 for > 2 runs").
 * A run with 0 differences ends the streak. A run whose shadow step never ran (it failed before,
 * e.g. at build) says nothing about differences: it is passed over. Records written before the
 * count was kept are read from their outcome (`warnings` meant differences, `passed` none).
 */
export function shadowDiffStreak(newestFirst: readonly UpgradeSummary[]): number {
  let streak = 0;
  for (const run of newestFirst) {
    const diffs = run.shadowDiffs !== undefined ? run.shadowDiffs : run.outcome === 'warnings' ? 1 : run.outcome === 'passed' ? 0 : null;
    if (diffs === null) continue;
    if (diffs === 0) break;
    streak++;
  }
  return streak;
}
