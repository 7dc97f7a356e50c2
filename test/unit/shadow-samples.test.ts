import { describe, expect, it } from 'vitest';
import {
  compareSuiteRun,
  resolveThresholds,
  validateSuite,
  type CallOutcome,
  type Lane,
  type SuiteRun,
} from '../../controller/src/shadow/index.js';

const ok = (result: unknown, isError = false): CallOutcome => ({ result, isError, durationMs: 2 });
const LANES = { baseline: 'http://b', replica: 'http://r', candidate: 'http://c' };

/** One call; `extra` = a second replica's answer, `repeats` = repeated baseline/replica answers. */
function compare(
  answers: { baseline: unknown; replica: unknown; candidate: unknown; replica2?: unknown; repeats?: unknown[] },
  thresholds = resolveThresholds({ proportional: 0 }),
) {
  const suite = validateSuite({ calls: [{ tool: 'status', read_only: true }] });
  const outcomes: Record<string, CallOutcome> = {
    baseline: ok(answers.baseline),
    replica: ok(answers.replica),
    candidate: ok(answers.candidate),
    ...(answers.replica2 === undefined ? {} : { replica2: ok(answers.replica2) }),
  };
  const run = {
    tools: { baseline: [], replica: [], candidate: [] },
    calls: [
      {
        index: 0,
        call: suite.calls[0]!,
        arguments: {},
        outcomes,
        ...(answers.repeats ? { repeats: { baseline: answers.repeats.map((r) => ok(r)) } } : {}),
      },
    ],
  } as unknown as SuiteRun<Lane>;
  return compareSuiteRun(run, {
    suite,
    thresholds,
    lanes: LANES,
    ...(answers.replica2 === undefined ? {} : { extraReplicas: { replica2: 'http://r2' } }),
    startedAt: new Date('2026-11-28T20:00:00Z'),
    finishedAt: new Date('2026-11-28T20:00:01Z'),
  });
}

const verdicts = (result: ReturnType<typeof compare>) => Object.fromEntries(result.diffs.map((d) => [d.path, d.verdict]));

describe('noise from more than one sample', () => {
  it('learns from a second replica what the first one did not show', () => {
    const answers = { baseline: { at: 'x1', n: 100 }, replica: { at: 'x1', n: 100 }, candidate: { at: 'x9', n: 100 } };
    expect(verdicts(compare(answers))).toEqual({ '$.at': 'regression' });
    const withSecond = compare({ ...answers, replica2: { at: 'x2', n: 100 } });
    expect(verdicts(withSecond)).toEqual({ '$.at': 'noise' });
    expect(withSecond.noise).toMatchObject({ lanes: ['replica', 'replica2'], repeats: 0, samples: 2 });
    expect(withSecond.noise.paths).toEqual([{ tool: 'status', path: '$.at', kinds: ['changed'], seen: 1 }]);
    expect(withSecond.extra_replicas).toEqual({ replica2: 'http://r2' });
  });

  it('learns from repeated read-only answers', () => {
    const answers = { baseline: { run: 'a' }, replica: { run: 'a' }, candidate: { run: 'c' } };
    expect(verdicts(compare(answers))).toEqual({ '$.run': 'regression' });
    const repeated = compare({ ...answers, repeats: [{ run: 'a' }, { run: 'b' }] });
    expect(verdicts(repeated)).toEqual({ '$.run': 'noise' });
    expect(repeated.noise).toMatchObject({ repeats: 2, samples: 3 });
    expect(repeated.diffs[0]!.reason).toMatch(/samples \(1 time\(s\)\)/);
  });

  it('widens a numeric allowance to the largest difference any sample showed, plus the thresholds', () => {
    const base = { baseline: { load: 100 }, replica: { load: 101 }, candidate: { load: 106 } };
    // One sample: noise 1, excess 5 > 1 × 1.
    expect(verdicts(compare(base))).toEqual({ '$.load': 'regression' });
    // Another sample moved by 4: excess 2 ≤ 1 × 4.
    expect(verdicts(compare({ ...base, replica2: { load: 96 } }))).toEqual({ '$.load': 'noise' });
    // The configured absolute tolerance is added on top: noise 1, excess 5 ≤ absolute 5.
    expect(verdicts(compare(base, resolveThresholds({ proportional: 0, absolute: 5 })))).toEqual({ '$.load': 'noise' });
    expect(verdicts(compare({ ...base, candidate: { load: 107 } }, resolveThresholds({ proportional: 0, absolute: 5 })))).toEqual({
      '$.load': 'regression',
    });
    // And the relative one scales with the noise: relative 3 × noise 1 = 3 < excess 5; noise 2 → 6 ≥ 4.
    expect(verdicts(compare(base, resolveThresholds({ proportional: 0, relative: 3 })))).toEqual({ '$.load': 'regression' });
    expect(verdicts(compare({ ...base, replica: { load: 102 } }, resolveThresholds({ proportional: 0, relative: 3 })))).toEqual({
      '$.load': 'noise',
    });
    // A stable number inside the absolute threshold is within_threshold, outside it a regression.
    expect(verdicts(compare({ baseline: { n: 10 }, replica: { n: 10 }, candidate: { n: 12 } }, resolveThresholds({ absolute: 2 })))).toEqual({
      '$.n': 'within_threshold',
    });
  });

  it('cancels an isError flip when any sample flipped too', () => {
    const suite = validateSuite({ calls: [{ tool: 'x' }] });
    const run = {
      tools: { baseline: [], replica: [], candidate: [] },
      calls: [{ index: 0, call: suite.calls[0]!, arguments: {}, outcomes: { baseline: ok({}), replica: ok({}), candidate: ok({}, true), replica2: ok({}, true) } }],
    } as unknown as SuiteRun<Lane>;
    const result = compareSuiteRun(run, {
      suite,
      thresholds: resolveThresholds(),
      lanes: LANES,
      extraReplicas: { replica2: 'http://r2' },
      startedAt: new Date(0),
      finishedAt: new Date(0),
    });
    expect(result.diffs.find((d) => d.path === 'isError')).toMatchObject({ verdict: 'noise', reason: expect.stringContaining('replica2') });
  });
});
