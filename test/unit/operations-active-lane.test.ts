import { describe, expect, it } from 'vitest';
import { resolveActiveLane } from '../../controller/src/operations/index.js';
import type { WorkerManagerFile } from '../../controller/src/promotion/index.js';

const blue = { name: 'blue', role: 'live', status: 'ready', image: 'wvo-worker:v1' };
const green = { name: 'green', role: 'live', status: 'ready', image: 'wvo-worker:v2' };
const shadow = { name: 'shadow-x', role: 'shadow-candidate', status: 'ready', image: 'wvo-worker:v2' };

const manager: WorkerManagerFile = {
  active_lane: 'green',
  lanes: [{ name: 'green', image: 'wvo-worker:v2', version: '0.2.0', status: 'active' }],
  versions: { green: '0.2.0' },
  last_switch: { from: 'blue', to: 'green', at: '2026-01-02T03:10:00.000Z', reason: 'promote', deployment_id: 'dep-1' },
  deployment: null,
  updated_at: '2026-01-02T03:10:00.000Z',
};

describe('the active lane (wvo status, the status page)', () => {
  it('before the first switch: the proxy\'s routes name it', () => {
    expect(resolveActiveLane({ proxy: { active: 'blue', last_switch: null }, lanes: [blue] })).toEqual({
      lane: 'blue',
      image: 'wvo-worker:v1',
      version: null,
      last_switch: null,
      source: 'proxy',
    });
  });

  it('before the first switch, without a proxy: the one ready live lane (shadow lanes do not count)', () => {
    expect(resolveActiveLane({ lanes: [blue, shadow] })).toMatchObject({ lane: 'blue', source: 'runtime' });
    expect(resolveActiveLane({ lanes: [{ ...blue, status: 'starting' }] })).toBeNull();
    expect(resolveActiveLane({ lanes: [blue, green] })).toBeNull(); // two live lanes and no record: not a guess
  });

  it('the proxy wins over a stale worker_manager.json (a switch made by hand, a rollback)', () => {
    const active = resolveActiveLane({ proxy: { active: 'blue', last_switch: { from: 'green', to: 'blue', at: '2026-01-02T04:00:00.000Z', immediate: true } }, lanes: [blue, green], manager });
    expect(active).toEqual({ lane: 'blue', image: 'wvo-worker:v1', version: null, last_switch: { from: 'green', to: 'blue', at: '2026-01-02T04:00:00.000Z' }, source: 'proxy' });
    expect(resolveActiveLane({ proxy: { active: null, last_switch: null }, lanes: [blue], manager })).toBeNull();
  });

  it('without a proxy, worker_manager.json picks among live lanes, and stands in when the runtime shows none', () => {
    expect(resolveActiveLane({ lanes: [blue, green], manager })).toMatchObject({ lane: 'green', version: '0.2.0', source: 'worker_manager' });
    expect(resolveActiveLane({ lanes: [], manager })).toMatchObject({ lane: 'green', image: 'wvo-worker:v2', source: 'worker_manager' });
    expect(resolveActiveLane({ manager })).toMatchObject({ lane: 'green', source: 'worker_manager' });
    // The record names a lane that no longer runs: the one live lane that does is the truth.
    expect(resolveActiveLane({ lanes: [blue], manager })).toMatchObject({ lane: 'blue', source: 'runtime' });
  });
});
