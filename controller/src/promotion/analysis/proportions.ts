import { normalSf } from './normal.js';

/**
 * Is the candidate's error proportion higher than the baseline's? A one-sided pooled
 * two-proportion z-test when every expected cell of the 2×2 table holds at least 5 (the usual
 * rule for the normal approximation), else Fisher's exact test (one-sided, hypergeometric tail).
 */
export interface ProportionTest {
  readonly candidateRate: number;
  readonly baselineRate: number;
  /** candidateRate − baselineRate. */
  readonly difference: number;
  readonly pValue: number;
  readonly method: 'z-test' | 'fisher-exact';
}

export interface Counts {
  readonly events: number;
  readonly trials: number;
}

export function compareProportions(candidate: Counts, baseline: Counts): ProportionTest | undefined {
  const { events: x1, trials: n1 } = candidate;
  const { events: x2, trials: n2 } = baseline;
  if (n1 <= 0 || n2 <= 0) return undefined;
  const candidateRate = x1 / n1;
  const baselineRate = x2 / n2;
  const difference = candidateRate - baselineRate;
  const n = n1 + n2;
  const events = x1 + x2;
  const expected = [(n1 * events) / n, (n1 * (n - events)) / n, (n2 * events) / n, (n2 * (n - events)) / n];
  if (expected.every((e) => e >= 5)) {
    const pooled = events / n;
    const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
    return { candidateRate, baselineRate, difference, pValue: normalSf(difference / se), method: 'z-test' };
  }
  return { candidateRate, baselineRate, difference, pValue: fisherGreater(x1, n1, events, n), method: 'fisher-exact' };
}

/** P(X ≥ x) for X ~ Hypergeometric(population n, `successes` in it, `draws` drawn). */
export function fisherGreater(x: number, draws: number, successes: number, n: number): number {
  const top = Math.min(draws, successes);
  const lnTotal = lnChoose(n, draws);
  let p = 0;
  for (let k = Math.max(x, 0, draws - (n - successes)); k <= top; k++) {
    p += Math.exp(lnChoose(successes, k) + lnChoose(n - successes, draws - k) - lnTotal);
  }
  return Math.min(1, p);
}

function lnChoose(n: number, k: number): number {
  return lnGamma(n + 1) - lnGamma(k + 1) - lnGamma(n - k + 1);
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7: about 15 significant digits). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const y = x - 1;
  let a = LANCZOS[0]!;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}
