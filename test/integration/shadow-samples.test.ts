import { afterEach, describe, expect, it } from 'vitest';
import { runShadow, validateSuite, type ShadowProgress } from '../../controller/src/shadow/index.js';
import { startShadowFixture, type ShadowFixtureBehaviour, type ShadowFixtureServer } from '../fixtures/shadow-mcp-server.js';

const SUITE = validateSuite({
  calls: [
    { name: 'status', tool: 'orchestrator_status', read_only: true },
    { name: 'top', tool: 'plan_next', arguments: { limit: 2 }, read_only: true },
    { name: 'echo', tool: 'echo', arguments: { value: 1 } },
  ],
});

describe('shadow noise samples from real lanes', () => {
  const started: ShadowFixtureServer[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((server) => server.close()));
  });
  const start = async (behaviour?: ShadowFixtureBehaviour) => {
    const server = await startShadowFixture(behaviour);
    started.push(server);
    return server.url;
  };

  it('uses a second replica and repeated read-only calls as samples, and records the noise model', async () => {
    const lanes = { baseline: await start({ load: 100 }), replica: await start({ load: 101 }), candidate: await start({ load: 103 }) };
    // One replica: load noise 1, the candidate moved 3: excess 2 > 1 × 1 (proportional off; its 5% of 100 would cancel it).
    const strict = { proportional: 0 };
    const one = await runShadow({ lanes, suite: SUITE, thresholds: strict, readOnlyRepeats: 0 });
    expect(one.diffs.filter((d) => d.reported).map((d) => d.path)).toEqual(['$.load']);
    expect(one.noise).toMatchObject({ lanes: ['replica'], repeats: 0, samples: 3 });

    const events: ShadowProgress[] = [];
    const many = await runShadow({
      lanes,
      replicas: [await start({ load: 97 })],
      suite: SUITE,
      thresholds: strict,
      readOnlyRepeats: 2,
      onProgress: (event) => events.push(event),
    });
    // The second replica moved load by 3: the candidate's 3 is within it.
    expect(many.diffs.filter((d) => d.reported)).toEqual([]);
    expect(many.diffs.find((d) => d.path === '$.load')).toMatchObject({ verdict: 'noise', baseline: 100, candidate: 103 });
    // 2 read-only calls × 2 repeats × 3 sampling lanes (baseline, replica, replica2).
    expect(many.noise).toMatchObject({ lanes: ['replica', 'replica2'], repeats: 12, samples: 3 * 2 + 12 });
    expect(many.noise.paths).toContainEqual(expect.objectContaining({ tool: 'orchestrator_status', path: '$.load', magnitude: 3 }));
    expect(many.extra_replicas).toEqual({ replica2: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/) });
    expect(events.filter((e) => e.type === 'connected').map((e) => e.type === 'connected' && e.lane).sort()).toEqual([
      'baseline',
      'candidate',
      'replica',
      'replica2',
    ]);
  });
});
