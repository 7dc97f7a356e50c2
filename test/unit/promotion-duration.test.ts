import { describe, expect, it } from 'vitest';
import { isWvoError } from '../../common/src/errors.js';
import { formatDuration, parseDuration } from '../../controller/src/promotion/index.js';

describe('parseDuration', () => {
  it.each([
    ['10m', 600_000],
    ['30s', 30_000],
    ['500ms', 500],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1.5s', 1_500],
    [' 2s ', 2_000],
    ['250', 250],
    [1234, 1234],
  ] as const)('%s → %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', '0s', '-5s', '10', 'ten minutes', '10x', '5m foo', 'm', '0.5ms', 0, -1, 1.5, Number.NaN])(
    'refuses %s with WVO_INVALID_DURATION',
    (input) => {
      let thrown: unknown;
      try {
        parseDuration(input as string | number, '--observe');
      } catch (error) {
        thrown = error;
      }
      if (input === '10') return expect(thrown).toBeUndefined(); // bare digits are milliseconds
      expect(isWvoError(thrown) && thrown.code).toBe('WVO_INVALID_DURATION');
      expect(isWvoError(thrown) && thrown.subject).toBe('--observe');
    },
  );

  it('formats back to the shortest exact spelling', () => {
    expect([600_000, 90_000, 500, 3_600_000, 61_001].map(formatDuration)).toEqual(['10m', '1m30s', '500ms', '1h', '1m1s1ms']);
    for (const ms of [1, 999, 1000, 59_999, 7_261_005]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
