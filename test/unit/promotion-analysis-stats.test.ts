import { describe, expect, it } from 'vitest';
import {
  compareProportions,
  distributionFromBuckets,
  distributionFromValues,
  fisherGreater,
  mannWhitneyU,
  normalCdf,
  normalSf,
  quantile,
} from '../../controller/src/promotion/index.js';

const values = distributionFromValues;

describe('normal distribution', () => {
  it('matches tabulated values', () => {
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 7);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7); // the fit is good to 1.2e-7 (relative)
    expect(normalCdf(-3.5)).toBeCloseTo(0.00023262907903552502, 9);
    expect(normalSf(5) / 2.866515718791933e-7).toBeCloseTo(1, 5);
  });
});

describe('Mann–Whitney U', () => {
  // ClickHouse's test data for mannWhitneyUTest (tests/queries/0_stateless/01560_mann_whitney.sql):
  // U = 223, two-sided p = 0.5426959774289482 (continuity correction); SciPy 1.17 agrees and gives
  // the one-sided values 0.2713479887144741 (greater) and 0.737545429642209 (less).
  const left = [310, 195, 530, 155, 530, 245, 385, 450, 465, 545, 170, 180, 125, 180, 230, 75, 430, 480, 495, 295];
  const right = [116, 171, 176, 421, 111, 326, 481, 111, 346, 441, 261, 411, 206, 521, 456, 446, 296, 51, 426, 261];

  it('reproduces a published example (normal approximation, tie and continuity corrections)', () => {
    const two = mannWhitneyU(values(left), values(right), 'two-sided')!;
    expect(two.u).toBe(223);
    expect(two.pValue).toBeCloseTo(0.5426959774289482, 6);
    expect(mannWhitneyU(values(left), values(right), 'greater')!.pValue).toBeCloseTo(0.2713479887144741, 6);
    expect(mannWhitneyU(values(left), values(right), 'less')!.pValue).toBeCloseTo(0.737545429642209, 6);
    expect(two.rankBiserial).toBeCloseTo((2 * 223) / 400 - 1, 12);
  });

  it('handles ties (worked by hand)', () => {
    // candidate 1 2 2 3 4, baseline 2 3 3 5 6 7. Pooled ranks: 1→1; 2,2,2→3; 3,3,3→6; 4→8; 5→9; 6→10; 7→11.
    // Candidate rank sum 1+3+3+6+8 = 21, U = 21 − 5·6/2 = 6. Tie term Σ(t³−t) = 24+24 = 48;
    // σ² = 30/12 · (12 − 48/110) = 28.909…; z(less) = (6 − 15 + ½)/σ = −1.5809 → p = 0.0570 (SciPy: 0.05695157229426534).
    const c = values([1, 2, 2, 3, 4]);
    const b = values([2, 3, 3, 5, 6, 7]);
    const less = mannWhitneyU(c, b, 'less')!;
    expect(less.u).toBe(6);
    expect(less.z).toBeCloseTo((6 - 15 + 0.5) / Math.sqrt(2.5 * (12 - 48 / 110)), 10);
    expect(less.pValue).toBeCloseTo(0.05695157229426534, 6);
    expect(mannWhitneyU(c, b, 'two-sided')!.pValue).toBeCloseTo(0.11390314458853068, 6);
    expect(mannWhitneyU(c, b, 'greater')!.pValue).toBeCloseTo(0.9613756091726351, 6);
  });

  it('treats histogram buckets as ties: same answer as the bucket bounds given as raw values', () => {
    const c = distributionFromBuckets([
      { le: 0.01, count: 2 },
      { le: 0.025, count: 5 },
      { le: Infinity, count: 6 },
    ]);
    const b = distributionFromBuckets([
      { le: 0.01, count: 4 },
      { le: 0.025, count: 7 },
      { le: Infinity, count: 7 },
    ]);
    const raw = mannWhitneyU(values([0.01, 0.01, 0.025, 0.025, 0.025, Infinity]), values([0.01, 0.01, 0.01, 0.01, 0.025, 0.025, 0.025]), 'greater')!;
    expect(mannWhitneyU(c, b, 'greater')).toEqual(raw);
  });

  it('all values tied → p = 1; no data → undefined; a clear shift → tiny p and rank-biserial 1', () => {
    expect(mannWhitneyU(values([5, 5, 5]), values([5, 5]), 'two-sided')!.pValue).toBe(1);
    expect(mannWhitneyU(values([]), values([1]))).toBeUndefined();
    const shifted = mannWhitneyU(values(Array.from({ length: 50 }, (_, i) => 100 + i)), values(Array.from({ length: 50 }, (_, i) => i)), 'greater')!;
    expect(shifted.rankBiserial).toBe(1);
    expect(shifted.pValue).toBeLessThan(1e-15);
  });
});

describe('quantiles', () => {
  it('raw values: R type 7; buckets: interpolated inside the bucket from the lower edge', () => {
    expect(quantile(values([1, 2, 3, 4]), 0.5)).toBe(2.5);
    expect(quantile(values([3, 1, 2]), 0.5)).toBe(2);
    expect(quantile(values([]), 0.5)).toBeUndefined();
    const d = distributionFromBuckets([
      { le: 0.01, count: 0 },
      { le: 0.025, count: 0 },
      { le: 0.05, count: 10 },
      { le: Infinity, count: 10 },
    ]);
    expect(quantile(d, 0.5)).toBeCloseTo(0.0375, 12);
  });

  it('refuses non-cumulative buckets with a code naming the bucket', () => {
    expect(() => distributionFromBuckets([{ le: 0.1, count: 5 }, { le: 1, count: 3 }])).toThrow(expect.objectContaining({ code: 'WVO_ANALYSIS_INPUT_INVALID', subject: 'le=1' }));
  });
});

describe('error-rate comparison', () => {
  it('Fisher exact (small counts) matches SciPy fisher_exact(alternative="greater")', () => {
    expect(compareProportions({ events: 3, trials: 20 }, { events: 0, trials: 20 })).toMatchObject({ method: 'fisher-exact' });
    expect(compareProportions({ events: 3, trials: 20 }, { events: 0, trials: 20 })!.pValue).toBeCloseTo(0.1153846153846154, 10);
    expect(compareProportions({ events: 8, trials: 10 }, { events: 1, trials: 6 })!.pValue).toBeCloseTo(0.024475524475524483, 10);
    expect(fisherGreater(0, 10, 3, 30)).toBeCloseTo(1, 12);
  });

  it('pooled two-proportion z-test when every expected cell is ≥ 5 (worked by hand)', () => {
    // 10/100 vs 2/100: pooled 0.06, se = √(0.06·0.94·0.02) = 0.033586, z = 0.08/se = 2.3819, p = 0.008612
    const test = compareProportions({ events: 10, trials: 100 }, { events: 2, trials: 100 })!;
    expect(test.method).toBe('z-test');
    expect(test.difference).toBeCloseTo(0.08, 12);
    expect(test.pValue).toBeCloseTo(normalSf(0.08 / Math.sqrt(0.06 * 0.94 * 0.02)), 12);
    expect(test.pValue).toBeCloseTo(0.008612, 5);
    expect(compareProportions({ events: 0, trials: 0 }, { events: 0, trials: 5 })).toBeUndefined();
  });
});
