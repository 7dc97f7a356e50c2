import { promotionErrors } from './errors.js';

/** The last step of every plan: the proxy switch (the candidate takes all new traffic). */
export const FULL_WEIGHT = 100;

/**
 * `--steps 10,50,100` (or `[10, 50, 100]`) → the canary weights in percent: integers 1–100,
 * strictly increasing; 100 (the switch) is appended when absent. `[100]` is the plain
 * blue/green switch. Errors name the step (`steps[1]`, or `--steps` for the list itself).
 */
export function parseCanarySteps(input: unknown): number[] {
  if (input === undefined || input === null) return [FULL_WEIGHT];
  const items: unknown[] = typeof input === 'string' ? input.split(',').map((s) => s.trim()) : Array.isArray(input) ? input : [input];
  if (items.length === 0 || (typeof input === 'string' && input.trim() === '')) {
    throw invalid('--steps', 'is empty: give weights in percent, e.g. 10,50,100');
  }
  const weights = items.map((item, i) => {
    const n = typeof item === 'number' ? item : typeof item === 'string' && /^\d+$/.test(item) ? Number(item) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > FULL_WEIGHT) {
      throw invalid(`steps[${i}]`, `must be a whole percent from 1 to 100, got ${JSON.stringify(item)}`);
    }
    return n;
  });
  weights.forEach((w, i) => {
    if (i > 0 && w <= weights[i - 1]!) throw invalid(`steps[${i}]`, `${w} does not increase on steps[${i - 1}] = ${weights[i - 1]}`);
  });
  return weights.at(-1) === FULL_WEIGHT ? weights : [...weights, FULL_WEIGHT];
}

/** The steps that split traffic (everything before the switch). */
export function weightedSteps(steps: readonly number[]): number[] {
  return steps.filter((w) => w < FULL_WEIGHT);
}

function invalid(subject: string, why: string) {
  return promotionErrors.create('WVO_PROMOTION_STEPS_INVALID', `invalid canary step ${subject}: ${why}`, {
    subject,
    hint: '--steps takes increasing percentages ending at (or implying) 100, e.g. --steps 10,50,100',
  });
}
