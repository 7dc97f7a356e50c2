import type { UpgradeResult } from '../harness/index.js';
import type { UpgradeSummary } from '../promotion/index.js';

/**
 * The idle lane next to `baseline` (blue ↔ green, also as a `-blue`/`-green` suffix); any other
 * name pairs with `<name>-b` and back, so two lanes alternate forever.
 */
export function pairedLane(baseline: string): string {
  const swapped = baseline.replace(/(^|-)(blue|green)$/, (_m, sep: string, colour: string) => `${sep}${colour === 'blue' ? 'green' : 'blue'}`);
  if (swapped !== baseline) return swapped;
  return baseline.endsWith('-b') ? baseline.slice(0, -2) : `${baseline}-b`;
}

/**
 * Which lane serves now (the baseline): the proxy's active lane when it answers, else the
 * runtime's ready live lane, else `blue` (first deployment). The candidate runs in the other one.
 */
export function chooseLanes(sources: { proxyActive?: string | null; liveLanes?: readonly string[] }): {
  baseline: string;
  candidate: string;
} {
  const baseline = sources.proxyActive ?? sources.liveLanes?.[0] ?? 'blue';
  return { baseline, candidate: pairedLane(baseline) };
}

/**
 * A harness run as promotion needs it (`store.recordUpgrade`). Recorded for every run, failed
 * ones too: promoting those is then refused with the plan's own code, not "no staged upgrade".
 */
export function upgradeSummaryFromResult(result: UpgradeResult, lanes: { baseline: string; candidate: string }): UpgradeSummary {
  return {
    id: result.id,
    outcome: result.outcome,
    steps: result.steps.map((s) => ({ name: s.name, status: s.status })),
    baseline: { lane: lanes.baseline, image: result.baselineImage ?? '(not resolved)' },
    candidate: { lane: lanes.candidate, image: result.candidateImage ?? '(not built)' },
    shadowDiffs: result.shadow?.count ?? null,
    ...(result.source === 'image' ? { source: 'image' as const } : {}),
  };
}
