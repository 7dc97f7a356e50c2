import { describe, expect, it } from 'vitest';
import { chooseLane, planClearWeights, planWeights, seededRandom } from '../../controller/src/proxy/canary-split.js';
import { laneRole, planDrain, planSwitch, routeSession, type RoutingState } from '../../controller/src/proxy/switch-rules.js';

const facts = (names: string[], unhealthy: string[] = []) => (lane: string) => ({
  registered: names.includes(lane),
  healthy: names.includes(lane) && !unhealthy.includes(lane),
});
const lanes = facts(['blue', 'green', 'red']);
const state = (active: string | null, canary?: { lane: string; weight: number }, draining: Array<[string, number]> = []): RoutingState => ({
  active,
  draining: new Map(draining),
  ...(canary ? { canary } : {}),
});

describe('canary split rules', () => {
  it('sets a split; the candidate has role canary and its sessions are forwarded', () => {
    const plan = planWeights(state('blue'), { candidate: 'green', weight: 30 }, lanes, 0, 1_000);
    expect(plan.next.canary).toEqual({ lane: 'green', weight: 30 });
    expect(laneRole(plan.next, 'green', true, 0)).toBe('canary');
    expect(routeSession('canary', 'move', true)).toBe('forward');
    expect(planWeights(plan.next, { candidate: 'green', weight: 30 }, lanes, 0, 1_000).noop).toBe(true);
  });

  it('refuses bad input with codes naming the field, changing nothing', () => {
    const s = state('blue');
    for (const weight of [-1, 100.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => planWeights(s, { candidate: 'green', weight }, lanes, 0, 1)).toThrow(expect.objectContaining({ code: 'WVO_PROXY_WEIGHT_INVALID', subject: 'weight' }));
    }
    expect(() => planWeights(s, { candidate: 'nope', weight: 10 }, lanes, 0, 1)).toThrow(expect.objectContaining({ code: 'WVO_PROXY_LANE_UNKNOWN', subject: 'candidate' }));
    expect(() => planWeights(s, { candidate: 'blue', weight: 10 }, lanes, 0, 1)).toThrow(expect.objectContaining({ code: 'WVO_PROXY_LANE_ACTIVE', subject: 'candidate' }));
    expect(() => planWeights(s, { candidate: 'green', weight: 10 }, facts(['blue', 'green'], ['green']), 0, 1)).toThrow(
      expect.objectContaining({ code: 'WVO_PROXY_LANE_UNHEALTHY', subject: 'candidate' }),
    );
    expect(() => planWeights(state(null), { candidate: 'green', weight: 10 }, lanes, 0, 1)).toThrow(expect.objectContaining({ code: 'WVO_PROXY_NO_ACTIVE_LANE' }));
    expect(s.canary).toBeUndefined();
  });

  it('0 and 100 are allowed; replacing the candidate drains the old one', () => {
    expect(planWeights(state('blue'), { candidate: 'green', weight: 0 }, lanes, 0, 1).next.canary?.weight).toBe(0);
    const replaced = planWeights(state('blue', { lane: 'green', weight: 10 }), { candidate: 'red', weight: 100 }, lanes, 5, 1_000);
    expect(replaced.next.canary).toEqual({ lane: 'red', weight: 100 });
    expect(replaced.replaced).toEqual({ lane: 'green', deadline: 1_005 });
    expect(laneRole(replaced.next, 'green', true, 6)).toBe('draining');
  });

  it('clearing drains the candidate, or moves it at once on rollback', () => {
    const s = state('blue', { lane: 'green', weight: 50 });
    expect(planClearWeights(s, false, 10, 1_000).ended).toEqual({ lane: 'green', deadline: 1_010 });
    const rollback = planClearWeights(s, true, 10, 1_000);
    expect(rollback.ended).toEqual({ lane: 'green', deadline: 10 });
    expect(laneRole(rollback.next, 'green', true, 10)).toBe('retired');
    expect(planClearWeights(state('blue'), true, 10, 1_000).ended).toBeUndefined();
  });

  it('a switch ends the split: to the candidate it simply becomes active; to the active lane the candidate drains', () => {
    const s = state('blue', { lane: 'green', weight: 30 });
    const promote = planSwitch(s, { lane: 'green' }, lanes, 0, 1_000);
    expect(promote.next).toMatchObject({ active: 'green' });
    expect(promote.next.canary).toBeUndefined();
    expect(promote.canaryEnded).toBeUndefined();
    const back = planSwitch(s, { lane: 'blue', rollback: true }, lanes, 7, 1_000);
    expect(back.noop).toBe(false);
    expect(back.next.canary).toBeUndefined();
    expect(back.canaryEnded).toEqual({ lane: 'green', deadline: 7 });
    const third = planSwitch(s, { lane: 'red' }, lanes, 7, 1_000);
    expect([...third.next.draining].sort()).toEqual([['blue', 1_007], ['green', 1_007]]);
    expect(planSwitch(state('blue'), { lane: 'blue' }, lanes, 0, 1).noop).toBe(true);
  });

  it('the weighted candidate cannot be drained', () => {
    expect(() => planDrain(state('blue', { lane: 'green', weight: 5 }), 'green', true, 0, 1)).toThrow(expect.objectContaining({ code: 'WVO_PROXY_LANE_ACTIVE' }));
  });

  it('chooses lanes from the injected source: draw·100 < weight → candidate; unhealthy candidate → active', () => {
    const draws = [0.1, 0.29, 0.3, 0.99];
    const source = () => draws.shift()!;
    const s = state('blue', { lane: 'green', weight: 30 });
    expect([1, 2, 3, 4].map(() => chooseLane(s, source, () => true))).toEqual(['green', 'green', 'blue', 'blue']);
    expect(chooseLane(s, () => 0, () => false)).toBe('blue');
    expect(chooseLane(state('blue'), () => 0, () => true)).toBe('blue');
    expect(chooseLane(state('blue', { lane: 'green', weight: 0 }), () => 0, () => true)).toBe('blue');
    expect(chooseLane(state('blue', { lane: 'green', weight: 100 }), () => 0.999999, () => true)).toBe('green');
  });

  it('a new session goes where the pinned shares are below the weight; the draw decides only within one session of it', () => {
    const s = state('blue', { lane: 'green', weight: 50 });
    const never = () => 0.999999;
    const always = () => 0;
    // All 24 on blue (the step just began): the candidate takes new sessions whatever the draw.
    expect(chooseLane(s, never, () => true, { candidate: 0, active: 24 })).toBe('green');
    // Candidate ahead of its share: blue, whatever the draw.
    expect(chooseLane(s, always, () => true, { candidate: 13, active: 11 })).toBe('blue');
    // Balanced (12/12): this session is the one the draw places (deficit 0.5 → 50 %).
    expect(chooseLane(s, () => 0.49, () => true, { candidate: 12, active: 12 })).toBe('green');
    expect(chooseLane(s, () => 0.5, () => true, { candidate: 12, active: 12 })).toBe('blue');
    // 10 %: one session in ten; an unhealthy candidate still gets none.
    const ten = state('blue', { lane: 'green', weight: 10 });
    expect(chooseLane(ten, never, () => true, { candidate: 0, active: 10 })).toBe('green');
    expect(chooseLane(ten, always, () => true, { candidate: 1, active: 8 })).toBe('blue');
    expect(chooseLane(ten, always, () => false, { candidate: 0, active: 30 })).toBe('blue');
  });

  it('renewing sessions keep the pinned counts at the weight (coin flips alone wander)', () => {
    for (const weight of [10, 50]) {
      const s = state('blue', { lane: 'green', weight });
      const random = seededRandom(3);
      const lanes: string[] = Array.from({ length: 24 }, () => 'blue');
      let worst = 0;
      for (let turn = 0; turn < 2_000; turn++) {
        const i = Math.floor(random() * lanes.length); // a random session ends and a new one starts
        lanes.splice(i, 1);
        const pinned = { candidate: lanes.filter((l) => l === 'green').length, active: lanes.filter((l) => l === 'blue').length };
        lanes.push(chooseLane(s, random, () => true, pinned)!);
        if (turn > 100) worst = Math.max(worst, Math.abs(lanes.filter((l) => l === 'green').length - (weight / 100) * 24));
      }
      expect(worst, `weight ${weight}`).toBeLessThanOrEqual(1);
    }
  });

  it('seededRandom is reproducible and roughly uniform', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const below30 = xs.filter((x) => x < 0.3).length;
    expect(below30).toBeGreaterThan(2_800);
    expect(below30).toBeLessThan(3_200);
  });
});
