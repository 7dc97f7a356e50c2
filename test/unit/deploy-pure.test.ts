import { describe, expect, it } from 'vitest';
import {
  adminUrl,
  chooseLanes,
  pairedLane,
  parseResumeOptions,
  parseRollbackOptions,
  progressLine,
  upgradeSummaryFromResult,
} from '../../controller/src/operations/index.js';
import type { UpgradeResult } from '../../controller/src/harness/upgrade.js';
import { normaliseFlagValue } from '../../worker/src/admin-flags.js';

describe('deploy: lanes', () => {
  it('pairs blue with green (also as a suffix) and anything else with <name>-b', () => {
    expect(pairedLane('blue')).toBe('green');
    expect(pairedLane('green')).toBe('blue');
    expect(pairedLane('worker-blue')).toBe('worker-green');
    expect(pairedLane('live')).toBe('live-b');
    expect(pairedLane('live-b')).toBe('live');
  });

  it('takes the proxy active lane as baseline, else the live lane, else blue', () => {
    expect(chooseLanes({ proxyActive: 'green', liveLanes: ['blue'] })).toEqual({ baseline: 'green', candidate: 'blue' });
    expect(chooseLanes({ proxyActive: undefined, liveLanes: ['worker-blue'] })).toEqual({ baseline: 'worker-blue', candidate: 'worker-green' });
    expect(chooseLanes({})).toEqual({ baseline: 'blue', candidate: 'green' });
  });

  it('turns a harness result into the staged upgrade promotion reads (failed runs too)', () => {
    const result = {
      id: 'up-1',
      outcome: 'failed',
      steps: [{ name: 'build', status: 'failed', started_at: '', duration_ms: 1, detail: {} }],
      testsSkipped: false,
    } as unknown as UpgradeResult;
    expect(upgradeSummaryFromResult(result, { baseline: 'blue', candidate: 'green' })).toEqual({
      id: 'up-1',
      outcome: 'failed',
      steps: [{ name: 'build', status: 'failed' }],
      baseline: { lane: 'blue', image: '(not resolved)' },
      candidate: { lane: 'green', image: '(not built)' },
      // Its shadow step never ran: no count (the shadow-diff streak passes over it).
      shadowDiffs: null,
    });
    // The seed's count (answer groups + state differences), not the raw answer diffs before grouping.
    const shadow = { count: 3, answerGroups: 1, stateDifferences: 2, reported: 7, cancelled: 1, shadowJson: 's', reportHtml: 'r' };
    const shadowed = { ...result, outcome: 'warnings', shadow } as unknown as UpgradeResult;
    expect(upgradeSummaryFromResult(shadowed, { baseline: 'blue', candidate: 'green' }).shadowDiffs).toBe(3);
  });
});

describe('deploy: options, progress, addresses', () => {
  it('parses rollback and resume options with coded errors', () => {
    expect(parseRollbackOptions({})).toEqual({ reason: 'rollback requested by the operator' });
    expect(parseRollbackOptions({ id: 'd1', reason: 'bad p95' })).toEqual({ id: 'd1', reason: 'bad p95' });
    expect(() => parseRollbackOptions({ nope: 1 })).toThrow(expect.objectContaining({ code: 'WVO_DEPLOY_OPTION_INVALID', exitCode: 2 }));
    expect(() => parseResumeOptions({ id: '' })).toThrow(expect.objectContaining({ code: 'WVO_DEPLOY_OPTION_INVALID', subject: 'id' }));
  });

  it('prints one line per transition, effect and skip; drops the rest', () => {
    expect(progressLine('[promote]', { from: 'switched', to: 'observing', event: 'switched', msg: 'observe 2s' })).toBe(
      '[promote] switched → observing (switched): observe 2s',
    );
    expect(progressLine('[promote]', { effect: 'switch_proxy', msg: 'proxy switched blue → green in 2 ms' })).toBe(
      '[promote] proxy switched blue → green in 2 ms',
    );
    expect(progressLine('[promote]', { msg: 'skip: already observing' })).toBe('[promote] skip: already observing');
    expect(progressLine('[promote]', { level: 40, msg: 'metrics scrape failed' })).toBe('[promote] warning: metrics scrape failed');
    expect(progressLine('[promote]', { msg: 'routes loaded' })).toBeUndefined();
  });

  it('normalises the proxy admin address', () => {
    expect(adminUrl('127.0.0.1:8081')).toBe('http://127.0.0.1:8081');
    expect(adminUrl('http://proxy:8081')).toBe('http://proxy:8081');
    expect(adminUrl('unix:/run/wvo/admin.sock')).toBe('unix:/run/wvo/admin.sock');
  });

  it("maps the plan's on/off to each worker flag's own values", () => {
    expect(normaliseFlagValue('PROMPT_MODE', 'on')).toBe('compact');
    expect(normaliseFlagValue('PROMPT_MODE', 'off')).toBe('standard');
    expect(normaliseFlagValue('SANDBOX_MODE', 'on')).toBe('strict');
    expect(normaliseFlagValue('SELECTIVE_TESTS', 'on')).toBe('on');
    expect(normaliseFlagValue('SANDBOX_MODE', 'strict')).toBe('strict');
    expect(normaliseFlagValue('PROMPT_MODE', 'loud')).toBeUndefined();
  });
});
