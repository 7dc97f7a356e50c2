import { describe, expect, it } from 'vitest';
import { laneRole, planDrain, planSwitch, routeSession, type RoutingState } from '../../controller/src/proxy/switch-rules.js';

const healthy = (names: string[], unhealthy: string[] = []) => (lane: string) => ({
  registered: names.includes(lane),
  healthy: names.includes(lane) && !unhealthy.includes(lane),
});

const state = (active: string | null, draining: Array<[string, number]> = []): RoutingState => ({ active, draining: new Map(draining) });

describe('switch rules', () => {
  it('gives lanes their role from the active pointer and drain deadlines', () => {
    const s = state('green', [['blue', 1_000]]);
    expect(laneRole(s, 'green', true, 0)).toBe('active');
    expect(laneRole(s, 'blue', true, 999)).toBe('draining');
    expect(laneRole(s, 'blue', true, 1_000)).toBe('retired');
    expect(laneRole(s, 'red', true, 0)).toBe('retired');
    expect(laneRole(s, 'gone', false, 0)).toBe('unknown');
  });

  it('routes sessions: forward while active/draining, then move (replayable) or expire', () => {
    expect(routeSession('active', 'move', true)).toBe('forward');
    expect(routeSession('draining', 'expire', true)).toBe('forward');
    expect(routeSession('retired', 'move', true)).toBe('move');
    expect(routeSession('unknown', 'move', true)).toBe('move');
    expect(routeSession('retired', 'move', false)).toBe('expire');
    expect(routeSession('retired', 'expire', true)).toBe('expire');
  });

  it('switch: previous lane drains until now + timeout', () => {
    const plan = planSwitch(state('blue'), { lane: 'green' }, healthy(['blue', 'green']), 100, 30_000);
    expect(plan).toMatchObject({ previous: 'blue', previousDeadline: 30_100, immediate: false, noop: false });
    expect(plan.next.active).toBe('green');
    expect([...plan.next.draining]).toEqual([['blue', 30_100]]);
  });

  it('switch back to a draining lane takes it out of draining', () => {
    const plan = planSwitch(state('green', [['blue', 500]]), { lane: 'blue' }, healthy(['blue', 'green']), 100, 1_000);
    expect(plan.next.active).toBe('blue');
    expect([...plan.next.draining]).toEqual([['green', 1_100]]);
  });

  it('rollback, or leaving an unhealthy lane, moves sessions at once', () => {
    const rollback = planSwitch(state('green'), { lane: 'blue', rollback: true }, healthy(['blue', 'green']), 100, 1_000);
    expect(rollback).toMatchObject({ immediate: true, previousDeadline: 100 });
    const sick = planSwitch(state('green'), { lane: 'blue' }, healthy(['blue', 'green'], ['green']), 100, 1_000);
    expect(sick).toMatchObject({ immediate: true, previousDeadline: 100 });
  });

  it('refuses unknown and unhealthy lanes with codes; same lane is a no-op', () => {
    expect(() => planSwitch(state('blue'), { lane: 'red' }, healthy(['blue']), 0, 1)).toThrow(expect.objectContaining({ code: 'WVO_PROXY_LANE_UNKNOWN' }));
    expect(() => planSwitch(state('blue'), { lane: 'green' }, healthy(['blue', 'green'], ['green']), 0, 1)).toThrow(
      expect.objectContaining({ code: 'WVO_PROXY_LANE_UNHEALTHY', status: 409 }),
    );
    expect(planSwitch(state('blue'), { lane: 'blue' }, healthy(['blue']), 0, 1).noop).toBe(true);
  });

  it('drain: refused on the active lane, shortens an existing deadline', () => {
    expect(() => planDrain(state('blue'), 'blue', true, 0, 10)).toThrow(expect.objectContaining({ code: 'WVO_PROXY_LANE_ACTIVE' }));
    expect(() => planDrain(state('blue'), 'x', false, 0, 10)).toThrow(expect.objectContaining({ code: 'WVO_PROXY_LANE_UNKNOWN' }));
    expect(planDrain(state('blue', [['green', 5_000]]), 'green', true, 100, 0).draining.get('green')).toBe(100);
    expect(planDrain(state('blue', [['green', 500]]), 'green', true, 100, 10_000).draining.get('green')).toBe(500);
  });
});
