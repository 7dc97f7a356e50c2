import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../controller/src/config/index.js';
import { parseFleetOptions, parseWaveObserve, parseWaveSizes, planFleetWaves, resolveWaveSettings, waveCounts, waveSpec } from '../../controller/src/fleet/index.js';

/** Progressive waves (`1,25%,rest`) and per-wave observe windows: the pure planner and its refusals. */
const names = (n: number) => Array.from({ length: n }, (_, i) => `d${i + 1}`);
const config = (waves: Record<string, unknown> = {}) =>
  parseConfig({ runtime: 'docker', fleet: { deployments: [{ name: 'a', state: './a', proxy: { admin: 'http://127.0.0.1:1' } }], waves } });
const plan = (n: number, options: Record<string, unknown>, waves: Record<string, unknown> = {}) =>
  planFleetWaves(names(n), resolveWaveSettings(config(waves), parseFleetOptions(options)));
const refusal = (body: () => unknown) => {
  try {
    body();
  } catch (error) {
    const e = error as { code: string; subject: string; exitCode?: number; message: string };
    return { code: e.code, subject: e.subject, exitCode: e.exitCode };
  }
  return undefined;
};

describe('wave sizes', () => {
  it('parses counts, percentages and a final `rest`, from a flag string or a list', () => {
    expect(parseWaveSizes('1, 25%,rest', 'waves')).toEqual([{ kind: 'count', n: 1 }, { kind: 'percent', p: 25 }, { kind: 'rest' }]);
    expect(parseWaveSizes([2, '12.5%'], 'fleet.waves.sizes')).toEqual([{ kind: 'count', n: 2 }, { kind: 'percent', p: 12.5 }]);
  });

  it('percentages are of the whole fleet, rounded up, at least one; `rest` takes what is left', () => {
    expect(waveCounts(100, parseWaveSizes('1,10%,rest', 'waves'), 'waves')).toEqual([1, 10, 89]);
    expect(waveCounts(7, parseWaveSizes('1,25%,rest', 'waves'), 'waves')).toEqual([1, 2, 4]);
    expect(waveCounts(3, parseWaveSizes('1,1%,rest', 'waves'), 'waves')).toEqual([1, 1, 1]);
    // Nothing left for `rest`: no empty wave.
    expect(waveCounts(2, parseWaveSizes('1,50%,rest', 'waves'), 'waves')).toEqual([1, 1]);
  });

  it('without `rest` the last size repeats, the final wave taking what is left', () => {
    expect(waveCounts(10, parseWaveSizes('1,3', 'waves'), 'waves')).toEqual([1, 3, 3, 3]);
    expect(waveCounts(6, parseWaveSizes('1,2', 'waves'), 'waves')).toEqual([1, 2, 2, 1]);
    expect(waveCounts(4, parseWaveSizes('4', 'waves'), 'waves')).toEqual([4]);
  });

  it('refuses 0, a bad percentage, `rest` not last, junk and sizes past the fleet: WVO_FLEET_WAVE_INVALID naming the flag or field', () => {
    const invalid = (subject: string) => ({ code: 'WVO_FLEET_WAVE_INVALID', subject, exitCode: 2 });
    expect(refusal(() => parseWaveSizes('1,0,rest', 'waves'))).toEqual(invalid('waves'));
    expect(refusal(() => parseWaveSizes([1, 0], 'fleet.waves.sizes'))).toEqual(invalid('fleet.waves.sizes'));
    expect(refusal(() => parseWaveSizes('0%', 'waves'))).toEqual(invalid('waves'));
    expect(refusal(() => parseWaveSizes('150%', 'waves'))).toEqual(invalid('waves'));
    expect(refusal(() => parseWaveSizes('-5%', 'waves'))).toEqual(invalid('waves'));
    expect(refusal(() => parseWaveSizes('1,rest,2', 'waves'))).toEqual(invalid('waves'));
    expect(refusal(() => parseWaveSizes('1,,rest', 'waves'))).toEqual(invalid('waves'));
    expect(refusal(() => parseWaveSizes('one', 'waves'))).toEqual(invalid('waves'));
    expect(refusal(() => parseWaveSizes([1.5], 'waves'))).toEqual(invalid('waves'));
    expect(refusal(() => parseWaveSizes([], 'waves'))).toEqual(invalid('waves'));
    expect(refusal(() => waveCounts(4, parseWaveSizes('1,2,2', 'waves'), 'waves'))).toEqual(invalid('waves'));
    expect(refusal(() => waveCounts(2, parseWaveSizes('1,60%,rest', 'fleet.waves.sizes'), 'fleet.waves.sizes'))).toEqual(invalid('fleet.waves.sizes'));
    expect(() => waveCounts(4, parseWaveSizes('1,2,2', 'waves'), 'waves')).toThrow('1 + 2 + 2 = 5 deployments, but the fleet has 4');
  });
});

describe('observe windows per wave', () => {
  it('parses durations; the last window repeats over later waves', () => {
    expect(parseWaveObserve('10m,2m', 'waveObserve')).toEqual([600_000, 120_000]);
    expect(plan(5, { waves: '1,2,rest', waveObserve: '10m,2m' }).map((w) => [w.members, w.observeMs])).toEqual([
      [['d1'], 600_000],
      [['d2', 'd3'], 120_000],
      [['d4', 'd5'], 120_000],
    ]);
    // Without windows each wave keeps the promotion's own (null); a fixed size takes windows too.
    expect(plan(3, { waveSize: 2 }).map((w) => [w.members, w.observeMs])).toEqual([[['d1', 'd2'], null], [['d3'], null]]);
    expect(plan(3, { waveSize: 2, waveObserve: ['5m'] }).map((w) => w.observeMs)).toEqual([300_000, 300_000]);
  });

  it('refuses a bad or zero window naming the flag or field', () => {
    expect(refusal(() => plan(3, { waveObserve: '10m,soon' }))).toMatchObject({ code: 'WVO_FLEET_WAVE_INVALID', subject: 'waveObserve' });
    expect(refusal(() => plan(3, {}, { observe: ['0'] }))).toMatchObject({ code: 'WVO_FLEET_WAVE_INVALID', subject: 'fleet.waves.observe' });
  });
});

describe('fixed and progressive settings together', () => {
  it('config sizes and observe are used; the flag form overrides config of either form', () => {
    expect(plan(4, {}, { sizes: [1, '50%', 'rest'], observe: ['1m', '30s'] }).map((w) => [w.members.length, w.observeMs])).toEqual([[1, 60_000], [2, 30_000], [1, 30_000]]);
    expect(plan(4, { waveSize: 2 }, { sizes: [1, 'rest'] }).map((w) => w.members.length)).toEqual([2, 2]);
    expect(plan(4, { waves: [1, 'rest'] }, { size: 2 }).map((w) => w.members.length)).toEqual([1, 3]);
    expect(waveSpec(resolveWaveSettings(config(), parseFleetOptions({ waves: '1, 25%,rest' })))).toBe('1,25%,rest');
    expect(waveSpec(resolveWaveSettings(config({ size: 3 }), parseFleetOptions({})))).toBe('3');
  });

  it('both forms at once are refused, naming the flag or the field', () => {
    expect(refusal(() => plan(4, { waveSize: 2, waves: '1,rest' }))).toEqual({ code: 'WVO_FLEET_WAVE_INVALID', subject: 'waves', exitCode: 2 });
    expect(refusal(() => plan(4, {}, { size: 2, sizes: [1, 'rest'] }))).toEqual({ code: 'WVO_FLEET_WAVE_INVALID', subject: 'fleet.waves.sizes', exitCode: 2 });
    expect(refusal(() => plan(4, { waves: 7 }))).toMatchObject({ code: 'WVO_FLEET_OPTION_INVALID', subject: 'waves' });
  });
});
