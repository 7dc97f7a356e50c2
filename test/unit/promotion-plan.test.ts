import { describe, expect, it } from 'vitest';
import { isWvoError } from '../../common/src/errors.js';
import {
  DEFAULT_ANALYSIS_CONFIG,
  buildPromotionPlan,
  parsePromotionOptions,
  promotionPlanSchema,
  type PromotionOptionsInput,
} from '../../controller/src/promotion/index.js';
import { codeOf, upgradeSummary } from './promotion-fixtures.js';

describe('parsePromotionOptions', () => {
  it('fills defaults', () => {
    const o = parsePromotionOptions({});
    expect(o).toMatchObject({
      observeMs: 600_000,
      intervalMs: 15_000,
      maxFailedChecks: 3,
      failureMode: 'total',
      flags: [],
      allowContract: false,
      retentionMs: 86_400_000,
      // argo-rollouts' scaleDownDelaySeconds: the old lane stays warm 30 s for an instant rollback.
      keepWarmMs: 30_000,
      resumeObserving: 'continue',
      // One step: the plain blue/green switch.
      steps: [100],
      probes: [],
    });
    expect(o.analysis).toEqual(DEFAULT_ANALYSIS_CONFIG);
    expect(o.gates.maxErrorRate).toBe(0.05);
    expect(o.gates.metrics.requests).toBe('wvo_proxy_requests_total');
  });

  it('CLI and API spellings build the same options', () => {
    const cli = parsePromotionOptions({ observeMs: '30s', intervalMs: '500ms', flags: 'PROMPT_MODE,SANDBOX_MODE=strict' });
    const api = parsePromotionOptions({
      observeMs: 30_000,
      intervalMs: 500,
      flags: [{ name: 'PROMPT_MODE' }, { name: 'SANDBOX_MODE', value: 'strict', revertTo: 'off' }],
    });
    expect(cli).toEqual(api);
    expect(cli.flags).toEqual([
      { name: 'PROMPT_MODE', value: 'on', revertTo: 'off' },
      { name: 'SANDBOX_MODE', value: 'strict', revertTo: 'off' },
    ]);
  });

  it('keepWarm: zero in any spelling means "stop at once"; parsed options parse again to themselves', () => {
    for (const zero of [0, '0', '0s', '0ms']) expect(parsePromotionOptions({ keepWarmMs: zero }).keepWarmMs).toBe(0);
    const once = parsePromotionOptions({ keepWarmMs: '90s', observeMs: '1m' });
    expect(once.keepWarmMs).toBe(90_000);
    const { intervalMs, ...rest } = once;
    expect(parsePromotionOptions({ ...rest, intervalMs })).toEqual(once);
    expect(parsePromotionOptions({ ...parsePromotionOptions({}), upgradeId: 'x' }).keepWarmMs).toBe(30_000);
    // The default never exceeds a shorter retention window; an explicit one longer than it is refused.
    expect(parsePromotionOptions({ retentionMs: '10s' }).keepWarmMs).toBe(10_000);
    expect(() => parsePromotionOptions({ retentionMs: '10s', keepWarmMs: '20s' })).toThrow(/keepWarmMs/);
  });

  it('interval defaults to the observe window when that is shorter', () => {
    expect(parsePromotionOptions({ observeMs: '2s' }).intervalMs).toBe(2_000);
  });

  it.each<[string, PromotionOptionsInput | Record<string, unknown>, string]>([
    ['unknown flag', { flags: 'PROMPT_MODE,TURBO' }, 'flags.1'],
    ['duplicate flag', { flags: ['PROMPT_MODE', 'PROMPT_MODE'] }, 'flags'],
    ['bad duration', { observeMs: 'soon' }, 'observeMs'],
    ['interval longer than window', { observeMs: '10s', intervalMs: '1m' }, 'intervalMs'],
    ['zero failed checks', { maxFailedChecks: 0 }, 'maxFailedChecks'],
    ['unknown option', { observe: '10m' }, '(options)'],
    ['bad threshold', { gates: { maxErrorRate: 2 } }, 'gates.maxErrorRate'],
    ['keep-warm longer than retention', { keepWarmMs: '2h', retentionMs: '1h' }, 'keepWarmMs'],
    ['bad keep-warm', { keepWarmMs: 'a while' }, 'keepWarmMs'],
  ])('refuses %s, naming the option', (_name, input, path) => {
    let thrown: unknown;
    try {
      parsePromotionOptions(input);
    } catch (error) {
      thrown = error;
    }
    expect(isWvoError(thrown) && thrown.code).toBe('WVO_INVALID_PROMOTION_OPTION');
    expect(isWvoError(thrown) && thrown.subject).toBe(path);
    expect(isWvoError(thrown) && thrown.exitCode).toBe(2);
  });
});

describe('buildPromotionPlan', () => {
  const options = parsePromotionOptions({ observeMs: '5m', flags: 'PROMPT_MODE,SELECTIVE_TESTS' });

  it('orders the work: canary, switch, observe, then each flag with its own observation, promote', () => {
    const plan = buildPromotionPlan(upgradeSummary(), options);
    expect(plan.steps.map((s) => `${s.kind}${s.flag ? `:${s.flag}` : ''}`)).toEqual([
      'start_canary',
      'switch',
      'observe',
      'flip_flag:PROMPT_MODE',
      'observe:PROMPT_MODE',
      'flip_flag:SELECTIVE_TESTS',
      'observe:SELECTIVE_TESTS',
      'promote',
    ]);
    expect(plan.steps[2]?.description).toBe('observe 5m with no flag changes');
    expect(promotionPlanSchema.parse(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
  });

  it('refuses an upgrade whose tests were skipped', () => {
    const skipped = upgradeSummary({
      steps: upgradeSummary().steps.map((s) => (s.name === 'test' ? { ...s, status: 'skipped' } : s)),
    });
    expect(codeOf(() => buildPromotionPlan(skipped, options))).toBe('WVO_TESTS_SKIPPED');
    const absent = upgradeSummary({ steps: upgradeSummary().steps.filter((s) => s.name !== 'test') });
    expect(codeOf(() => buildPromotionPlan(absent, options))).toBe('WVO_TESTS_SKIPPED');
  });

  it('refuses a schema-compat warning unless allowContract', () => {
    const warned = upgradeSummary({
      steps: upgradeSummary().steps.map((s) => (s.name === 'schema-compat' ? { ...s, status: 'warning' } : s)),
    });
    expect(codeOf(() => buildPromotionPlan(warned, options))).toBe('WVO_CONTRACT_MIGRATION');
    const allowed = parsePromotionOptions({ allowContract: true });
    expect(buildPromotionPlan(warned, allowed).allowContract).toBe(true);
  });

  it('refuses a failed upgrade, a mismatched id and a candidate in the baseline lane', () => {
    const failed = upgradeSummary({ outcome: 'failed', steps: [...upgradeSummary().steps, { name: 'x', status: 'failed' }] });
    expect(codeOf(() => buildPromotionPlan(failed, options))).toBe('WVO_UPGRADE_FAILED');
    expect(codeOf(() => buildPromotionPlan(upgradeSummary(), parsePromotionOptions({ upgradeId: 'other' })))).toBe(
      'WVO_INVALID_PROMOTION_OPTION',
    );
    const sameLane = upgradeSummary({ candidate: { lane: 'blue', image: 'x' } });
    expect(codeOf(() => buildPromotionPlan(sameLane, options))).toBe('WVO_INVALID_PROMOTION_OPTION');
  });
});
