import { describe, expect, it } from 'vitest';
import { coverageOf, errorCode } from '../../controller/src/shadow/index.js';

const answer = (result: unknown, isError = false) => ({ result, isError });

describe('coverage', () => {
  it('lists per tool the success and error paths each lane reached, by error code', () => {
    const coverage = coverageOf([
      { index: 0, name: 'plan', tool: 'plan_next', outcomes: { baseline: answer({ tasks: [] }), candidate: answer({ tasks: [] }) } },
      { index: 1, name: 'bad', tool: 'plan_next', outcomes: { baseline: answer({ code: 'WVO_INPUT_INVALID' }, true), candidate: answer({ code: 'WVO_INPUT_INVALID' }, true) } },
      { index: 2, name: 'gone', tool: 'dispatch', outcomes: { baseline: answer({ code: 'WVO_TASK_NOT_FOUND' }, true), candidate: answer({ ok: true }) } },
      { index: 3, name: 'rpc', tool: 'dispatch', outcomes: { baseline: answer({ error: { code: -32602, message: 'x' } }, true), candidate: answer(null, true) } },
    ]);
    expect(coverage.tools).toEqual([
      {
        tool: 'plan_next',
        calls: 2,
        paths: [
          { outcome: 'success', lanes: { baseline: 1, candidate: 1 } },
          { outcome: 'error', code: 'WVO_INPUT_INVALID', lanes: { baseline: 1, candidate: 1 } },
        ],
      },
      {
        tool: 'dispatch',
        calls: 2,
        paths: [
          { outcome: 'success', lanes: { candidate: 1 } },
          { outcome: 'error', lanes: { candidate: 1 } },
          { outcome: 'error', code: '-32602', lanes: { baseline: 1 } },
          { outcome: 'error', code: 'WVO_TASK_NOT_FOUND', lanes: { baseline: 1 } },
        ],
      },
    ]);
    expect(coverage.executor_gaps).toEqual([]);
  });

  it('finds executor answers that were not recorded anywhere in an answer', () => {
    const gap = { dispatch_id: 1, run: { executor: { source: 'not_recorded', exit_code: null } } };
    const recorded = { dispatch_id: 1, run: { executor: { source: 'recorded', exit_code: 0 } } };
    const coverage = coverageOf([
      { index: 0, name: 'dispatch next', tool: 'dispatch', outcomes: { baseline: answer(gap), candidate: answer(gap) } },
      { index: 1, name: 'verify', tool: 'verify', outcomes: { baseline: answer(recorded), candidate: answer({ checks: [{ executor: { source: 'not_recorded' } }] }) } },
      { index: 2, name: 'status', tool: 'status', outcomes: { baseline: answer({ executor: 'not_recorded' }), candidate: answer({ source: 'not_recorded' }) } },
    ]);
    expect(coverage.executor_gaps).toEqual([
      { tool: 'dispatch', call_index: 0, call_name: 'dispatch next', lanes: ['baseline', 'candidate'], paths: ['$.run.executor'] },
      { tool: 'verify', call_index: 1, call_name: 'verify', lanes: ['candidate'], paths: ['$.checks[0].executor'] },
    ]);
  });

  it('reads error codes from tool errors and JSON-RPC errors only', () => {
    expect(errorCode({ code: 'WVO_X', message: 'm' })).toBe('WVO_X');
    expect(errorCode({ error: { code: -32001 } })).toBe('-32001');
    expect(errorCode('WVO_X')).toBeUndefined();
    expect(errorCode({ message: 'no code' })).toBeUndefined();
  });
});
