import { describe, expect, it } from 'vitest';
import { liveStateVolumeName } from '../../controller/src/runtime/docker/live-state.js';
import { stateVolumeName } from '../../controller/src/runtime/docker/remote-state.js';
import { liveSnapshotHost, placeLiveLane } from '../../controller/src/runtime/live-placement.js';

describe('live state on volume-mode hosts: one volume per project, live lanes placed where it is', () => {
  const volume = liveStateVolumeName('team-west');

  it('names the live state per project, apart from the per-lane copies', () => {
    expect(volume).toBe('team-west-live-state');
    expect(stateVolumeName('team-west', 'blue')).toBe('team-west-state-blue');
    expect(stateVolumeName('team-west', 'green')).not.toBe(volume);
  });

  it('no holder yet: the asked (or default) host; the holder itself: stays', () => {
    expect(placeLiveLane({ requested: 'b', explicit: false, holders: [], volume })).toBe('b');
    expect(placeLiveLane({ requested: 'b', explicit: true, holders: [], volume })).toBe('b');
    expect(placeLiveLane({ requested: 'b', explicit: true, holders: ['b'], volume })).toBe('b');
  });

  it('the default host does not hold it: the lane follows the volume (green joins blue)', () => {
    expect(placeLiveLane({ requested: 'a', explicit: false, holders: ['b'], volume })).toBe('b');
  });

  it('an explicit other host: WVO_STATE_LIVE_ELSEWHERE naming the field, the holder and the volume', () => {
    expect(() => placeLiveLane({ requested: 'a', explicit: true, holders: ['b'], volume })).toThrow(
      expect.objectContaining({ code: 'WVO_STATE_LIVE_ELSEWHERE', subject: 'host', exitCode: 2, details: { volume, requested: 'a', holder: 'b' } }),
    );
  });

  it('two holders: refused whatever was asked (which one is live cannot be told)', () => {
    for (const requested of ['a', 'b']) {
      expect(() => placeLiveLane({ requested, explicit: false, holders: ['a', 'b'], volume })).toThrow(expect.objectContaining({ code: 'WVO_STATE_LIVE_ELSEWHERE', subject: volume }));
    }
  });

  it('the live snapshot is taken on the one volume host its live lanes run on or its volume is on; none: the local state root; two: refused', () => {
    expect(liveSnapshotHost({ liveLaneHosts: [], holders: [], volume })).toBeUndefined();
    expect(liveSnapshotHost({ liveLaneHosts: ['b', 'b'], holders: [], volume })).toBe('b');
    expect(liveSnapshotHost({ liveLaneHosts: [], holders: ['b'], volume })).toBe('b');
    expect(liveSnapshotHost({ liveLaneHosts: ['b'], holders: ['b'], volume })).toBe('b');
    expect(() => liveSnapshotHost({ liveLaneHosts: ['a'], holders: ['b'], volume })).toThrow(
      expect.objectContaining({ code: 'WVO_STATE_LIVE_ELSEWHERE', subject: volume, details: { volume, holders: ['a', 'b'] } }),
    );
  });
});
