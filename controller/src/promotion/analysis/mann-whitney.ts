import { sampleSize, type Distribution } from './distribution.js';
import { normalCdf, normalSf } from './normal.js';

/**
 * The Mann–Whitney U test (Wilcoxon rank-sum) of candidate against baseline, computed on tie
 * groups so a histogram's buckets rank as ties. Normal approximation with tie correction and a
 * continuity correction of ½ (as R's wilcox.test(correct = TRUE) and SciPy's
 * mannwhitneyu(method="asymptotic")), which is what latencies with hundreds of samples need.
 */
export const ALTERNATIVES = ['two-sided', 'greater', 'less'] as const;
/** `greater`: the candidate's values tend to be larger than the baseline's (e.g. slower). */
export type Alternative = (typeof ALTERNATIVES)[number];

export interface MannWhitneyResult {
  /** U of the candidate: pairs where the candidate's value is larger, ties counting ½. */
  readonly u: number;
  readonly nCandidate: number;
  readonly nBaseline: number;
  readonly z: number;
  readonly pValue: number;
  /** Rank-biserial correlation 2U/(n₁n₂) − 1: +1 every candidate value above every baseline one, −1 below, 0 no shift. */
  readonly rankBiserial: number;
}

export function mannWhitneyU(candidate: Distribution, baseline: Distribution, alternative: Alternative = 'two-sided'): MannWhitneyResult | undefined {
  const n1 = sampleSize(candidate);
  const n2 = sampleSize(baseline);
  if (n1 === 0 || n2 === 0) return undefined;
  const groups = mergeGroups(candidate, baseline);
  const n = n1 + n2;
  let rank = 0;
  let rankSum = 0;
  let tieTerm = 0;
  for (const [inCandidate, inBaseline] of groups) {
    const t = inCandidate + inBaseline;
    rankSum += inCandidate * (rank + (t + 1) / 2);
    tieTerm += t * t * t - t;
    rank += t;
  }
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const rankBiserial = (2 * u) / (n1 * n2) - 1;
  if (!(variance > 0)) return { u, nCandidate: n1, nBaseline: n2, z: 0, pValue: 1, rankBiserial };
  const sd = Math.sqrt(variance);
  const diff = u - mean;
  let z: number;
  let pValue: number;
  if (alternative === 'greater') {
    z = (diff - 0.5) / sd;
    pValue = normalSf(z);
  } else if (alternative === 'less') {
    z = (diff + 0.5) / sd;
    pValue = normalCdf(z);
  } else {
    z = (Math.abs(diff) - 0.5) / sd;
    pValue = Math.min(1, 2 * normalSf(z));
  }
  return { u, nCandidate: n1, nBaseline: n2, z, pValue, rankBiserial };
}

/** Counts per distinct value across both samples, ascending: [candidate, baseline]. */
function mergeGroups(a: Distribution, b: Distribution): Array<[number, number]> {
  const groups: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  const pa = a.points;
  const pb = b.points;
  while (i < pa.length || j < pb.length) {
    const va = i < pa.length ? pa[i]!.value : Infinity;
    const vb = j < pb.length ? pb[j]!.value : Infinity;
    // Equal values (including two +Inf buckets) are one tie group.
    if (i < pa.length && (j >= pb.length || va < vb)) groups.push([pa[i++]!.count, 0]);
    else if (j < pb.length && (i >= pa.length || vb < va)) groups.push([0, pb[j++]!.count]);
    else groups.push([pa[i++]!.count, pb[j++]!.count]);
  }
  return groups;
}
