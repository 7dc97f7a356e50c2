import { describe, expect, it } from 'vitest';
import {
  appendFreshPass,
  compareSuiteRun,
  DEFAULT_THRESHOLDS,
  FRESH_PASS_PREFIX,
  IS_ERROR_PATH,
  ShadowResultSchema,
  validateSuite,
} from '../../controller/src/shadow/index.js';
import { answer as ok, compareAnswers as run } from '../helpers/shadow-run.js';

describe('compareSuiteRun', () => {
  it('reports nothing for identical answers', () => {
    const result = run({ calls: [{ tool: 'a' }, { tool: 'b' }] }, [
      [ok({ x: 1 }), ok({ x: 1 }), ok({ x: 1 })],
      [ok('text'), ok('text'), ok('text')],
    ]);
    expect(result.totals).toEqual({ calls: 2, diffs: 0, reported: 0, cancelled: 0, groups: 0, groups_reported: 0, state_reported: 0, count: 0 });
    expect(result.calls[0]?.results).toEqual({});
    expect(() => ShadowResultSchema.parse(result)).not.toThrow();
  });

  it('reports a regression with tool, call, arguments, path and all three values', () => {
    const result = run({ calls: [{ tool: 'plan_next', name: 'top', arguments: { limit: 2 } }] }, [
      [ok({ tasks: [{ id: 'a' }, { id: 'b' }] }), ok({ tasks: [{ id: 'a' }, { id: 'b' }] }), ok({ tasks: [{ id: 'b' }, { id: 'a' }] })],
    ]);
    expect(result.totals).toMatchObject({ reported: 2, cancelled: 0 });
    expect(result.diffs[0]).toEqual({
      tool: 'plan_next',
      call_index: 0,
      call_name: 'top',
      arguments: { limit: 2 },
      path: '$.tasks[0].id',
      kind: 'changed',
      baseline: 'a',
      replica: 'a',
      candidate: 'b',
      verdict: 'regression',
      reported: true,
      reason: 'baseline and samples agree; the candidate differs',
    });
    expect(result.calls[0]).toMatchObject({ reported: 2, cancelled: 0, results: { candidate: { tasks: [{ id: 'b' }, { id: 'a' }] } } });
  });

  it('cancels noise learned from the replica, across calls of the same tool', () => {
    const result = run({ calls: [{ tool: 'status' }, { tool: 'status' }, { tool: 'other' }] }, [
      [ok({ at: 'r1', n: 1 }), ok({ at: 'r2', n: 1 }), ok({ at: 'r3', n: 1 })],
      // Here baseline and replica happen to agree on `at`; the tool's other call showed it is noisy.
      [ok({ at: 'r9', n: 1 }), ok({ at: 'r9', n: 1 }), ok({ at: 'r8', n: 1 })],
      // Another tool learns nothing from `status`.
      [ok({ at: 'x' }), ok({ at: 'x' }), ok({ at: 'y' })],
    ]);
    expect(result.diffs.map((d) => `${d.tool} ${d.path} ${d.verdict}`)).toEqual([
      'status $.at noise',
      'status $.at noise',
      'other $.at regression',
    ]);
    expect(result.totals).toEqual({ calls: 3, diffs: 3, reported: 1, cancelled: 2, groups: 2, groups_reported: 1, state_reported: 0, count: 1 });
  });

  it('applies global and per-call ignore rules before diffing', () => {
    const result = run(
      { ignore: ['$..recorded_at'], calls: [{ tool: 'a', ignore: ['$.id'] }, { tool: 'b' }] },
      [
        [ok({ id: 1, recorded_at: 'p' }), ok({ id: 1, recorded_at: 'p' }), ok({ id: 2, recorded_at: 'q' })],
        [ok({ id: 1, deep: { recorded_at: 'p' } }), ok({ id: 1, deep: { recorded_at: 'p' } }), ok({ id: 2, deep: { recorded_at: 'q' } })],
      ],
    );
    expect(result.diffs.map((d) => `${d.call_index} ${d.path}`)).toEqual(['1 $.id']);
  });

  it('reports an isError flip, and cancels it when the replica flips too', () => {
    const result = run({ calls: [{ tool: 'a' }, { tool: 'b' }] }, [
      [ok({ v: 1 }), ok({ v: 1 }), ok({ code: 'WVO_X' }, true)],
      [ok({ v: 1 }), ok({ code: 'WVO_X' }, true), ok({ code: 'WVO_X' }, true)],
    ]);
    const flags = result.diffs.filter((d) => d.path === IS_ERROR_PATH);
    expect(flags.map((d) => [d.tool, d.verdict, d.baseline, d.replica, d.candidate])).toEqual([
      ['a', 'regression', false, false, true],
      ['b', 'noise', false, true, true],
    ]);
    expect(result.calls[0]?.is_error).toEqual({ baseline: false, replica: false, candidate: true });
  });

  it('marks values absent on the side where a path does not exist', () => {
    const result = run({ calls: [{ tool: 'a' }] }, [[ok({ gone: 1 }), ok({ gone: 1 }), ok({ fresh: 2 })]]);
    const [fresh, gone] = result.diffs;
    expect(fresh).toMatchObject({ path: '$.fresh', kind: 'added', candidate: 2 });
    expect(fresh).not.toHaveProperty('baseline');
    expect(fresh).not.toHaveProperty('replica');
    expect(gone).toMatchObject({ path: '$.gone', kind: 'removed', baseline: 1, replica: 1 });
    expect(gone).not.toHaveProperty('candidate');
  });
});

describe('the fresh-state pass in one result', () => {
  const lanes = { baseline: 'http://b/mcp', replica: 'http://r/mcp', candidate: 'http://c/mcp' };
  const suite = validateSuite({ calls: [{ tool: 'autopilot_status', name: 'autopilot' }, { tool: 'plan_next' }] });
  const pass = (flag: [string, string]) => ({
    tools: { baseline: [], replica: [], candidate: [] },
    calls: suite.calls.map((call, index) => ({
      index,
      call,
      arguments: {},
      outcomes: {
        baseline: ok(index === 0 ? { flags: { PROMPT_MODE: flag[0] } } : { tasks: [] }),
        replica: ok(index === 0 ? { flags: { PROMPT_MODE: flag[0] } } : { tasks: [] }),
        candidate: ok(index === 0 ? { flags: { PROMPT_MODE: flag[1] } } : { tasks: [] }),
      },
    })),
  });

  it('appends its calls after the snapshot pass, renamed and labelled, so one change in it is one group', () => {
    const merged = appendFreshPass(pass(['standard', 'standard']), pass(['standard', 'compact']));
    const result = compareSuiteRun(merged, {
      suite,
      thresholds: DEFAULT_THRESHOLDS,
      lanes,
      freshFrom: 2,
      laneMode: { mode: 'sandbox' },
      startedAt: new Date('2026-12-01T00:00:00Z'),
      finishedAt: new Date('2026-12-01T00:00:01Z'),
    });
    expect(result.calls.map((c) => `${c.index} ${c.pass} ${c.name}`)).toEqual([
      '0 snapshot autopilot',
      '1 snapshot plan_next#1',
      `2 fresh ${FRESH_PASS_PREFIX}autopilot`,
      `3 fresh ${FRESH_PASS_PREFIX}plan_next#1`,
    ]);
    expect(result.groups.filter((g) => g.reported).map((g) => [g.tool, g.path, g.calls])).toEqual([
      ['autopilot_status', '$.flags.PROMPT_MODE', [{ index: 2, name: 'fresh: autopilot' }]],
    ]);
    expect(result.lane_mode).toEqual({ mode: 'sandbox' });
    expect(result.totals.count).toBe(1);
    expect(() => ShadowResultSchema.parse(result)).not.toThrow();
  });
});
