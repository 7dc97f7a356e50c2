import { describe, expect, it } from 'vitest';
import { groupPath, type CallOutcome } from '../../controller/src/shadow/index.js';
import { answer as ok, compareAnswers as compare } from '../helpers/shadow-run.js';

const tasks = (n: number, extra: (i: number) => object = () => ({})) =>
  Array.from({ length: n }, (_, i) => ({ id: `T-${i}`, priority: 9 - (i % 3), ...extra(i) }));

describe('grouped differences', () => {
  it('reports a field added to every task of every plan_next answer as exactly one addition group', () => {
    const calls = [{ tool: 'plan_next', name: 'top' }, { tool: 'plan_next', name: 'wide' }, { tool: 'plan_next', name: 'wider' }, { tool: 'status' }];
    const plan = (n: number): [CallOutcome, CallOutcome, CallOutcome] => [
      ok({ tasks: tasks(n) }),
      ok({ tasks: tasks(n) }),
      ok({ tasks: tasks(n, (i) => ({ rank: i + 1 })) }),
    ];
    const result = compare({ calls }, [plan(1), plan(40), plan(70), [ok({ up: true }), ok({ up: true }), ok({ up: true })]]);
    expect(result.totals.diffs).toBe(111); // what users saw as 111 rows
    expect(result.groups).toHaveLength(1);
    expect(result.groups[0]).toMatchObject({
      tool: 'plan_next',
      path: '$.tasks[*].rank',
      kind: 'addition',
      verdict: 'addition',
      reported: true,
      count: 111,
      calls: [{ index: 0, name: 'top' }, { index: 1, name: 'wide' }, { index: 2, name: 'wider' }],
      example: { call_index: 0, call_name: 'top', path: '$.tasks[0].rank', candidate: 1 },
    });
    expect(result.groups[0]!.example).not.toHaveProperty('baseline');
    expect(result.diffs.every((d) => d.verdict === 'addition')).toBe(true);
    expect(result.totals).toMatchObject({ groups: 1, groups_reported: 1, count: 1, reported: 111 });
  });

  it('keeps different kinds, tools and paths apart, reported groups first', () => {
    const result = compare({ calls: [{ tool: 'a' }, { tool: 'b' }, { tool: 'a' }] }, [
      [ok({ n: 1, s: 'x', gone: 1, at: 1 }), ok({ n: 1, s: 'x', gone: 1, at: 2 }), ok({ n: '1', s: 'y', at: 3 })],
      [ok({ s: 'x' }), ok({ s: 'x' }), ok({ s: 'y' })],
      [ok({ n: 1, s: 'x', gone: 1, at: 1 }), ok({ n: 1, s: 'x', gone: 1, at: 2 }), ok({ n: 1, s: 'z', at: 3 })],
    ]);
    expect(result.groups.map((g) => `${g.tool} ${g.path} ${g.kind} ${g.verdict} ${g.count}`)).toEqual([
      'a $.gone removal regression 2',
      'a $.n changed_type regression 1',
      'a $.s changed_value regression 2',
      'b $.s changed_value regression 1',
      'a $.at changed_value noise 2',
    ]);
    expect(result.totals).toMatchObject({ groups: 5, groups_reported: 4, count: 4 });
  });

  it('groups error paths: a changed error code is "error_code"; an isError flip is one group with its body diffs', () => {
    const result = compare({ calls: [{ tool: 'dispatch' }, { tool: 'dispatch' }, { tool: 'verify' }] }, [
      [ok({ code: 'WVO_TASK_NOT_FOUND' }, true), ok({ code: 'WVO_TASK_NOT_FOUND' }, true), ok({ code: 'WVO_TASK_GONE' }, true)],
      [ok({ code: 'WVO_TASK_NOT_FOUND' }, true), ok({ code: 'WVO_TASK_NOT_FOUND' }, true), ok({ code: 'WVO_TASK_GONE' }, true)],
      [ok({ ok: 1 }), ok({ ok: 1 }), ok({ code: 'WVO_X' }, true)],
    ]);
    expect(result.groups.map((g) => `${g.tool} ${g.path} ${g.kind} ${g.count}`)).toEqual([
      'dispatch $.code error_code 2',
      'verify isError error_code 3',
    ]);
    expect(result.groups[1]!.example).toMatchObject({ path: 'isError', baseline: false, candidate: true, reason: 'the candidate fails where the baseline succeeds' });
  });

  it('keeps a new error code with its message and details: one error_code group per call path', () => {
    const was = { code: 'WVO_TASK_NOT_FOUND', message: 'no task T-9', details: { task: 'T-9' } };
    const now = { code: 'WVO_TASK_GONE', message: 'task T-9 was removed', details: { task: 'T-9', at: 'archive' } };
    const result = compare({ calls: [{ tool: 'dispatch' }, { tool: 'verify' }] }, [
      [ok(was, true), ok(was, true), ok(now, true)],
      [ok({ n: 1 }, true), ok({ n: 1 }, true), ok({ n: 2 }, true)],
    ]);
    expect(result.groups.map((g) => `${g.tool} ${g.path} ${g.kind} ${g.count}`)).toEqual([
      'dispatch $.code error_code 3',
      'verify $.n changed_value 1',
    ]);
  });

  it('generalises array indices and id-keyed members, not field names', () => {
    expect(groupPath(['tasks', 3, 'rank'])).toBe('$.tasks[*].rank');
    expect(groupPath(['by_id', 'T-01', 'status'])).toBe('$.by_id[*].status');
    expect(groupPath(['by_id', 'task_7'])).toBe('$.by_id[*]');
    expect(groupPath(['runs', '3f2a9c1b-0d4e-4f6a-9b7c-1e2d3c4b5a69', 'exit'])).toBe('$.runs[*].exit');
    expect(groupPath(['digests', 'a3f9c2d4e5b60718'])).toBe('$.digests[*]');
    expect(groupPath(['latency', 'p95'])).toBe('$.latency.p95');
    expect(groupPath(['tokens_24h', 'dead', 'a1'])).toBe('$.tokens_24h.dead.a1');
    expect(groupPath(['odd key'])).toBe("$['odd key']");
  });
});
