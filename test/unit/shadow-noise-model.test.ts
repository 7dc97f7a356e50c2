import { describe, expect, it } from 'vitest';
import {
  classify,
  DEFAULT_THRESHOLDS,
  diffJson,
  learnNoise,
  resolveThresholds,
  type Thresholds,
  type Verdict,
} from '../../controller/src/shadow/index.js';

/** Classify every baseline→candidate diff, with noise learned from baseline→replica. */
function verdicts(baseline: unknown, replica: unknown, candidate: unknown, thresholds: Thresholds = DEFAULT_THRESHOLDS) {
  const noise = learnNoise(diffJson(baseline, replica));
  return Object.fromEntries(
    diffJson(baseline, candidate).map((diff) => [diff.path, classify(diff, noise, thresholds).verdict]),
  ) as Record<string, Verdict>;
}

describe('noise model', () => {
  it('reports a difference on a path where baseline and replica agree', () => {
    expect(verdicts({ id: 'a' }, { id: 'a' }, { id: 'b' })).toEqual({ '$.id': 'regression' });
    expect(verdicts({ n: 1 }, { n: 1 }, { n: 2 })).toEqual({ '$.n': 'regression' });
    expect(verdicts({ a: 1 }, { a: 1 }, { a: 1, b: 2, c: { d: 1 } })).toEqual({ '$.b': 'addition', '$.c': 'addition' });
    expect(verdicts({ a: 1, b: 2 }, { a: 1, b: 2 }, { a: 1 })).toEqual({ '$.b': 'regression' });
  });

  it('cancels a non-numeric difference on a noisy path, however large', () => {
    expect(verdicts({ run: 'r-1' }, { run: 'r-2' }, { run: 'completely different' })).toEqual({ '$.run': 'noise' });
    expect(verdicts({ run: 'r-1' }, { run: 'r-2' }, { run: 42 })).toEqual({ '$.run': 'noise' });
  });

  it('masks the noisy path only: not the paths below it, beside it or above it', () => {
    // The replica disagrees about $.a as a whole; what $.a.b holds is still compared.
    expect(verdicts({ a: { b: 1 } }, { a: null }, { a: { b: 2 } })).toEqual({ '$.a.b': 'regression' });
    expect(verdicts({ a: { b: 1 } }, { a: null }, { a: null })).toEqual({ '$.a': 'noise' });
    expect(verdicts({ a: { b: 'x' } }, { a: { b: 'y' } }, { a: null })).toEqual({ '$.a': 'regression' });
    // A noisy sibling masks nothing next to it.
    expect(verdicts({ at: 1, id: 'a', s: { n: 1 } }, { at: 2, id: 'a', s: { n: 1 } }, { at: 3, id: 'b', s: { n: 2 } })).toEqual({
      '$.at': 'noise',
      '$.id': 'regression',
      '$.s.n': 'regression',
    });
  });

  it('does not let a list whose length varies mask the values of its elements', () => {
    // The replica has one more element ($.l[*] presence noise); the candidate changed element 0.
    expect(verdicts({ l: [1, 2] }, { l: [1, 2, 3] }, { l: [9, 2, 3] })).toEqual({ '$.l[0]': 'regression', '$.l[2]': 'noise' });
  });

  it('learns from every sample: a path noisy in any one of them is noisy', () => {
    const baseline = { id: 'a', at: 't1', n: 100 };
    const samples = [{ id: 'a', at: 't1', n: 101 }, { id: 'a', at: 't2', n: 100 }, { id: 'a', at: 't1', n: 97 }];
    const noise = learnNoise(samples.flatMap((sample) => diffJson(baseline, sample)));
    const classified = diffJson(baseline, { id: 'a', at: 't9', n: 105 }).map((diff) => [diff.path, classify(diff, noise, resolveThresholds({ proportional: 0 })).verdict]);
    // `at` only moved in the second sample; `n` moved by 3 at most: excess 2 ≤ 1 × 3.
    expect(Object.fromEntries(classified)).toEqual({ '$.at': 'noise', '$.n': 'noise' });
    const one = learnNoise(diffJson(baseline, samples[0]));
    expect(classify(diffJson(baseline, { ...baseline, at: 't9' })[0]!, one, DEFAULT_THRESHOLDS).verdict).toBe('regression');
    expect(noise.get('$.n')).toMatchObject({ magnitude: 3, seen: 2 });
  });

  it('learns noise per field across array elements', () => {
    const baseline = { tasks: [{ nonce: 'a', id: 1 }, { nonce: 'b', id: 2 }] };
    const replica = { tasks: [{ nonce: 'z', id: 1 }, { nonce: 'b', id: 2 }] };
    const candidate = { tasks: [{ nonce: 'q', id: 1 }, { nonce: 'r', id: 3 }] };
    expect(verdicts(baseline, replica, candidate)).toEqual({
      '$.tasks[0].nonce': 'noise',
      '$.tasks[1].nonce': 'noise',
      '$.tasks[1].id': 'regression',
    });
  });

  it('cancels an added element when the replica added it too', () => {
    expect(verdicts({ l: [1] }, { l: [1, 2] }, { l: [1, 3] })).toEqual({ '$.l[1]': 'noise' });
  });

  describe('numeric values on noisy paths', () => {
    // Noise-relative rule alone (proportional off): baseline 100, replica 104, noise 4; with
    // relative 1 the candidate's excess over the noise must exceed 4.
    const byNoise = resolveThresholds({ proportional: 0 });

    it('cancels a candidate within the noise', () => {
      expect(verdicts({ n: 100 }, { n: 104 }, { n: 103 }, byNoise)).toEqual({ '$.n': 'noise' });
      expect(verdicts({ n: 100 }, { n: 104 }, { n: 96 }, byNoise)).toEqual({ '$.n': 'noise' });
      expect(verdicts({ n: 100 }, { n: 104 }, { n: 108 }, byNoise)).toEqual({ '$.n': 'noise' }); // excess 4 = 1 × noise
    });

    it('reports a candidate that clearly exceeds the noise', () => {
      expect(verdicts({ n: 100 }, { n: 104 }, { n: 109 }, byNoise)).toEqual({ '$.n': 'regression' }); // excess 5 > 4
      expect(verdicts({ n: 100 }, { n: 104 }, { n: 0 }, byNoise)).toEqual({ '$.n': 'regression' });
    });

    it('honours the relative threshold', () => {
      const strict = resolveThresholds({ relative: 0, proportional: 0 });
      expect(verdicts({ n: 100 }, { n: 104 }, { n: 105 }, strict)).toEqual({ '$.n': 'regression' });
      expect(verdicts({ n: 100 }, { n: 104 }, { n: 104 }, strict)).toEqual({ '$.n': 'noise' });
      const lax = resolveThresholds({ relative: 3, proportional: 0 });
      expect(verdicts({ n: 100 }, { n: 104 }, { n: 116 }, lax)).toEqual({ '$.n': 'noise' });
      expect(verdicts({ n: 100 }, { n: 104 }, { n: 117 }, lax)).toEqual({ '$.n': 'regression' });
    });

    it('honours the absolute threshold, on stable paths too', () => {
      const abs = resolveThresholds({ absolute: 10, proportional: 0 });
      expect(verdicts({ n: 100 }, { n: 104 }, { n: 114 }, abs)).toEqual({ '$.n': 'noise' }); // excess 10, not > 10
      expect(verdicts({ n: 100 }, { n: 104 }, { n: 115 }, abs)).toEqual({ '$.n': 'regression' });
      expect(verdicts({ n: 100 }, { n: 100 }, { n: 110 }, abs)).toEqual({ '$.n': 'within_threshold' });
      expect(verdicts({ n: 100 }, { n: 100 }, { n: 111 }, abs)).toEqual({ '$.n': 'regression' });
    });

    it('scales the allowance with the value on noisy paths (one sample under-estimates jitter)', () => {
      // Heap size: replica 0.1 MB off, candidate 1 MB off — 10× the sample, but 2% of the value.
      expect(verdicts({ heap: 50e6 }, { heap: 50.1e6 }, { heap: 51e6 })).toEqual({ '$.heap': 'noise' });
      expect(verdicts({ heap: 50e6 }, { heap: 50.1e6 }, { heap: 51e6 }, byNoise)).toEqual({ '$.heap': 'regression' });
      // A leak that doubles it is still reported.
      expect(verdicts({ heap: 50e6 }, { heap: 50.1e6 }, { heap: 100e6 })).toEqual({ '$.heap': 'regression' });
      // Stable paths get no proportional allowance: a deterministic count that moves is a change.
      expect(verdicts({ n: 1000 }, { n: 1000 }, { n: 1001 })).toEqual({ '$.n': 'regression' });
    });

    it('uses the largest noise seen for the field', () => {
      const noise = learnNoise([...diffJson({ l: [1, 1] }, { l: [2, 11] })]);
      const [diff] = diffJson({ l: [1, 1] }, { l: [1, 20] }).slice(-1);
      expect(classify(diff!, noise, DEFAULT_THRESHOLDS).verdict).toBe('noise'); // excess 9 ≤ 10
    });

    it('reports a type change on a numerically noisy path', () => {
      expect(verdicts({ n: 1 }, { n: 2 }, { n: 'one' })).toEqual({ '$.n': 'regression' });
      expect(verdicts({ n: 1 }, { n: 2 }, {})).toEqual({ '$.n': 'regression' });
    });
  });

  describe('timestamps', () => {
    it('tolerates concurrent-clock skew on a stable path', () => {
      expect(verdicts({ at: '2026-11-28T20:00:00Z' }, { at: '2026-11-28T20:00:00Z' }, { at: '2026-11-28T20:00:01Z' })).toEqual({
        '$.at': 'within_threshold',
      });
      expect(verdicts({ at: '2026-11-28 20:00:00' }, { at: '2026-11-28 20:00:00' }, { at: '2026-11-28 20:00:01' })).toEqual({
        '$.at': 'within_threshold',
      });
    });

    it('reports a timestamp far outside the tolerance and the noise', () => {
      expect(verdicts({ at: '2026-11-28T20:00:00.000Z' }, { at: '2026-11-28T20:00:00.004Z' }, { at: '1970-01-01T00:00:00.000Z' })).toEqual({
        '$.at': 'regression',
      });
    });

    it('compares zoned stamps as instants', () => {
      expect(verdicts({ at: '2026-11-28T20:00:00Z' }, { at: '2026-11-28T20:00:00Z' }, { at: '2026-11-28T21:00:00+01:00' })).toEqual({
        '$.at': 'within_threshold', // same instant, written differently
      });
    });

    it('treats non-timestamp strings as plain strings', () => {
      expect(verdicts({ v: '2026-11-28' }, { v: '2026-11-28' }, { v: '2026-11-29' })).toEqual({ '$.v': 'regression' });
    });
  });

  it('explains each verdict', () => {
    const noise = learnNoise(diffJson({ n: 1 }, { n: 3 }));
    const [diff] = diffJson({ n: 1 }, { n: 10 });
    expect(classify(diff!, noise, DEFAULT_THRESHOLDS).reason).toMatch(/candidate moved 9, largest baseline-vs-sample noise 2/);
  });
});
