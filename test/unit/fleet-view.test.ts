import { describe, expect, it } from 'vitest';
import { renderFleetRecord, renderFleetStatus } from '../../controller/src/cli/fleet-view.js';
import type { FleetRecord } from '../../controller/src/fleet/index.js';

/** The fleet tables show each wave's planned size and observe window (older records: counted, the promotion's window). */
const member = (name: string, wave: number) => ({ name, wave, state: 'promoted' as const, deploymentId: `${name}-d1`, upgradeId: `up.${name}`, baselineImage: 'img:1', candidateImage: 'img:2', reason: null, startedAt: 0, finishedAt: 1 });
const record = (waves: FleetRecord['waves'], extra: Partial<FleetRecord> = {}): FleetRecord => ({
  id: 'f1', upgradeId: 'up', candidateImage: 'img:2', state: 'promoted', waveSize: 2, bootLimit: 2, pauseMs: 0, onFailure: 'keep', promotion: {},
  members: [member('a', 0), member('b', 1), member('c', 1)], waves, nextWaveAt: null, reason: null, createdAt: 0, updatedAt: 0, finishedAt: 1, ...extra,
});

describe('fleet views', () => {
  it('promote --fleet and status --fleet print each wave with its size and window', () => {
    const progressive = record(
      [
        { index: 0, size: 1, observeMs: 600_000, startedAt: 0, finishedAt: 12_000 },
        { index: 1, size: 2, observeMs: 120_000, startedAt: 13_000, finishedAt: 20_000 },
      ],
      { waveSpec: '1,rest' },
    );
    const shown = renderFleetRecord(progressive);
    expect(shown).toContain('waves: 2 (sizes 1,rest), boot limit 2');
    expect(shown).toContain('  wave 1 (1 deployment, observe 10m): a (12.0 s)');
    expect(shown).toContain('  wave 2 (2 deployments, observe 2m): b, c (7.0 s)');
    const status = renderFleetStatus({ fleet: progressive, deployments: [] as never });
    expect(status).toContain('wave 2 (2 deployments, observe 2m): b, c');
  });

  it('a record from before progressive waves: sizes counted from its members, the promotion\'s own window', () => {
    const old = renderFleetRecord(record([{ index: 0, startedAt: null, finishedAt: null }, { index: 1, startedAt: null, finishedAt: null }]));
    expect(old).toContain('waves: 2 (sizes 2)');
    expect(old).toContain("wave 2 (2 deployments, observe the promotion's): b, c (-)");
  });
});
