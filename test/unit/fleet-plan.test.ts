import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../controller/src/config/index.js';
import { decideFleet, parseFleetOptions, planWaves, resolveFleetTargets, resolveWaveSettings, updateMember, type FleetRecord } from '../../controller/src/fleet/index.js';

const deployment = (name: string, extra: Record<string, unknown> = {}) => ({ name, state: `./fleet/${name}`, proxy: { admin: `http://127.0.0.1:90${name.length}` }, ...extra });
const config = (fleet: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  parseConfig({ runtime: 'docker', hosts: [{ name: 'hostb', docker: 'tcp://10.0.0.2:2375' }], fleet, ...extra });

describe('fleet targets (config → deployments)', () => {
  it('resolves host, app and an absolute state root per deployment', () => {
    const targets = resolveFleetTargets(config({ deployments: [deployment('a'), deployment('b', { host: 'hostb', app: 'team-b' })] }), '/srv/wvo');
    expect(targets).toEqual([
      { name: 'a', placement: { kind: 'host', host: 'local' }, app: 'wvo-a', state: '/srv/wvo/fleet/a', proxy: { admin: 'http://127.0.0.1:901' } },
      { name: 'b', placement: { kind: 'host', host: 'hostb' }, app: 'team-b', state: '/srv/wvo/fleet/b', proxy: { admin: 'http://127.0.0.1:901' } },
    ]);
  });

  it('refuses an empty fleet, an unknown host or node, two deployments on one state, a duplicate name: codes naming the field', () => {
    const refuse = (fleet: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
      try {
        resolveFleetTargets(config(fleet, extra), '/srv');
      } catch (error) {
        return { code: (error as { code: string }).code, subject: (error as { subject: string }).subject };
      }
      return undefined;
    };
    expect(refuse({})).toEqual({ code: 'WVO_FLEET_EMPTY', subject: 'fleet.deployments' });
    expect(refuse({ deployments: [deployment('a'), deployment('b', { host: 'nowhere' })] })).toEqual({ code: 'WVO_FLEET_HOST_UNKNOWN', subject: 'fleet.deployments[1].host' });
    expect(refuse({ deployments: [deployment('a', { node: 'n1' })] })).toEqual({ code: 'WVO_FLEET_HOST_UNKNOWN', subject: 'fleet.deployments[0].node' });
    expect(refuse({ deployments: [deployment('a', { host: 'local', node: 'n1' })] })).toEqual({ code: 'WVO_FLEET_HOST_UNKNOWN', subject: 'fleet.deployments[0].node' });
    expect(refuse({ deployments: [deployment('a'), { ...deployment('b'), state: 'fleet/../fleet/a' }] })).toEqual({ code: 'WVO_FLEET_STATE_SHARED', subject: 'fleet.deployments[1].state' });
    expect(refuse({ deployments: [deployment('a'), { ...deployment('a'), state: './other' }] })).toEqual({ code: 'WVO_FLEET_DEPLOYMENT_DUPLICATE', subject: 'fleet.deployments[1].name' });
    expect(refuse({ deployments: [deployment('a', { host: 'hostb' })] }, { runtime: 'local' })).toEqual({ code: 'WVO_FLEET_HOST_UNKNOWN', subject: 'fleet.deployments[0].host' });
    // A swarm node is known through swarm.nodes.
    expect(refuse({ deployments: [deployment('a', { node: 'n1' })] }, { swarm: { nodes: [{ label: 'n1', host: 'local' }] } })).toBeUndefined();
  });
});

describe('wave settings and plan', () => {
  const fleet = config({ deployments: [deployment('a')], waves: { size: 2, pause: '5s' } });

  it('options override config; the boot limit defaults to the wave size and never exceeds it', () => {
    expect(resolveWaveSettings(fleet, parseFleetOptions({}))).toEqual({ size: 2, sizes: null, observeMs: [], bootLimit: 2, pauseMs: 5000, onFailure: 'keep' });
    expect(resolveWaveSettings(fleet, parseFleetOptions({ waveSize: 3, bootLimit: 9, pause: 0, onFailure: 'rollback' }))).toEqual({ size: 3, sizes: null, observeMs: [], bootLimit: 3, pauseMs: 0, onFailure: 'rollback' });
  });

  it('a wave size of 0, a boot limit of 0, a bad pause: WVO_FLEET_WAVE_INVALID naming where the value came from', () => {
    expect(() => resolveWaveSettings(fleet, parseFleetOptions({ waveSize: 0 }))).toThrow(expect.objectContaining({ code: 'WVO_FLEET_WAVE_INVALID', subject: 'waveSize', exitCode: 2 }));
    expect(() => resolveWaveSettings(config({ deployments: [deployment('a')], waves: { size: 0 } }), parseFleetOptions({}))).toThrow(expect.objectContaining({ code: 'WVO_FLEET_WAVE_INVALID', subject: 'fleet.waves.size' }));
    expect(() => resolveWaveSettings(fleet, parseFleetOptions({ bootLimit: 0 }))).toThrow(expect.objectContaining({ subject: 'bootLimit' }));
    expect(() => resolveWaveSettings(fleet, parseFleetOptions({ waveSize: 1.5 }))).toThrow(expect.objectContaining({ subject: 'waveSize' }));
    expect(() => resolveWaveSettings(fleet, parseFleetOptions({ pause: 'soon' }))).toThrow(expect.objectContaining({ code: 'WVO_FLEET_WAVE_INVALID', subject: 'pause' }));
  });

  it('bad promotion options are refused by the promotion room, naming the option; upgradeId inside them is the fleet\'s', () => {
    expect(() => parseFleetOptions({ promotion: { observeMs: 'never' } })).toThrow(expect.objectContaining({ code: 'WVO_INVALID_PROMOTION_OPTION', subject: 'observeMs' }));
    expect(() => parseFleetOptions({ promotion: { upgradeId: 'x' } })).toThrow(expect.objectContaining({ code: 'WVO_FLEET_OPTION_INVALID', subject: 'promotion.upgradeId' }));
    expect(() => parseFleetOptions({ waves: 2 })).toThrow(expect.objectContaining({ code: 'WVO_FLEET_OPTION_INVALID' }));
  });

  it('plans waves in config order', () => {
    expect(planWaves(['a', 'b', 'c', 'd', 'e'], 2)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(planWaves(['a', 'b'], 5)).toEqual([['a', 'b']]);
  });
});

function record(members: Array<[string, number, FleetRecord['members'][number]['state']]>, extra: Partial<FleetRecord> = {}): FleetRecord {
  return {
    id: 'f1', upgradeId: 'up', candidateImage: 'img:2', state: 'running', waveSize: 2, bootLimit: 2, pauseMs: 1000, onFailure: 'keep', promotion: {},
    members: members.map(([name, wave, state]) => ({ name, wave, state, deploymentId: null, upgradeId: `up.${name}`, baselineImage: 'img:1', candidateImage: 'img:2', reason: null, startedAt: null, finishedAt: null })),
    waves: [0, 1, 2].map((index) => ({ index, startedAt: null, finishedAt: null })), nextWaveAt: null, reason: null, createdAt: 0, updatedAt: 0, finishedAt: null,
    ...extra,
  };
}

describe('decideFleet (what to do next)', () => {
  it('begins the first wave up to the boot limit, then awaits it', () => {
    expect(decideFleet(record([['a', 0, 'pending'], ['b', 0, 'pending'], ['c', 1, 'pending']]), 0)).toEqual({ kind: 'begin', members: ['a', 'b'] });
    expect(decideFleet(record([['a', 0, 'pending'], ['b', 0, 'pending']], { bootLimit: 1 }), 0)).toEqual({ kind: 'begin', members: ['a'] });
    expect(decideFleet(record([['a', 0, 'promoting'], ['b', 0, 'pending']], { bootLimit: 1 }), 0)).toEqual({ kind: 'await', members: ['a'] });
    expect(decideFleet(record([['a', 0, 'promoted'], ['b', 0, 'pending']], { bootLimit: 1 }), 0)).toEqual({ kind: 'begin', members: ['b'] });
  });

  it('pauses between waves, then begins the next; all promoted → finish promoted', () => {
    const r = record([['a', 0, 'promoted'], ['c', 1, 'pending']], { nextWaveAt: 5000 });
    expect(decideFleet(r, 4000)).toEqual({ kind: 'wait', untilMs: 5000 });
    expect(decideFleet(r, 5000)).toEqual({ kind: 'begin', members: ['c'] });
    expect(decideFleet(record([['a', 0, 'promoted'], ['c', 1, 'promoted']]), 0)).toEqual({ kind: 'finish', state: 'promoted', reason: null });
  });

  it('a failure stops the fleet: in-flight members finish, pending ones are skipped, promoted ones kept or reverted per policy', () => {
    const failing = (onFailure: 'keep' | 'rollback', rest: Array<[string, number, FleetRecord['members'][number]['state']]>) => record([['a', 0, 'promoted'], ['b', 1, 'rolled_back'], ...rest], { onFailure });
    expect(decideFleet(failing('keep', [['c', 1, 'promoting'], ['d', 2, 'pending']]), 0)).toEqual({ kind: 'await', members: ['c'] });
    expect(decideFleet(failing('keep', [['c', 1, 'promoted'], ['d', 2, 'pending']]), 0)).toEqual({ kind: 'skip', members: ['d'] });
    expect(decideFleet(failing('keep', [['d', 2, 'skipped']]), 0)).toMatchObject({ kind: 'finish', state: 'failed' });
    expect(decideFleet(failing('rollback', [['d', 2, 'skipped']]), 0)).toEqual({ kind: 'revert', members: ['a'] });
    const reverted = record([['a', 0, 'reverted'], ['b', 1, 'rolled_back']], { onFailure: 'rollback' });
    expect(decideFleet(reverted, 0)).toMatchObject({ kind: 'finish', state: 'rolled_back' });
    expect(decideFleet({ ...reverted, state: 'rolled_back' }, 0)).toEqual({ kind: 'done' });
  });

  it('updateMember stamps wave start and end and sets the pause only after a wholly promoted wave', () => {
    let r = record([['a', 0, 'pending'], ['b', 0, 'pending'], ['c', 1, 'pending']]);
    r = updateMember(r, 'a', { state: 'promoting' }, 100);
    expect(r.waves[0]).toEqual({ index: 0, startedAt: 100, finishedAt: null });
    r = updateMember(r, 'b', { state: 'promoting' }, 110);
    r = updateMember(r, 'a', { state: 'promoted' }, 200);
    expect(r.nextWaveAt).toBeNull();
    r = updateMember(r, 'b', { state: 'promoted' }, 300);
    expect(r.waves[0]).toEqual({ index: 0, startedAt: 100, finishedAt: 300 });
    expect(r.nextWaveAt).toBe(1300);
    const failed = updateMember(updateMember(record([['a', 0, 'promoting']]), 'a', { state: 'rolled_back' }, 50), 'a', {}, 60);
    expect(failed.nextWaveAt).toBeNull();
  });
});
