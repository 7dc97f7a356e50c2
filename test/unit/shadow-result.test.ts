import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  readShadowJson,
  withStateDiff,
  readUpgradeShadowSummary,
  writeShadowJson,
  writeUpgradeShadowSummary,
  type ShadowResult,
} from '../../controller/src/shadow/index.js';
import { EMPTY_SHADOW_RESULT } from '../helpers/shadow-sample.js';

const sampleResult = EMPTY_SHADOW_RESULT;

/** A shadow.json exactly as version 1 wrote it (before groups, noise model and coverage). */
const V1_FILE = {
  version: 1,
  started_at: '2026-11-28T20:00:00.000Z',
  finished_at: '2026-11-28T20:00:01.000Z',
  lanes: { baseline: 'http://b', replica: 'http://r', candidate: 'http://c' },
  thresholds: { relative: 1, absolute: 0, proportional: 0.05, timestamp_tolerance_ms: 2000 },
  calls: [0, 1].map((index) => ({
    index,
    name: `plan_next#${index}`,
    tool: 'plan_next',
    arguments: {},
    is_error: { baseline: false, replica: false, candidate: false },
    duration_ms: { baseline: 1, replica: 1, candidate: 1 },
    results: {},
    reported: 2,
    cancelled: 0,
  })),
  diffs: [0, 1].flatMap((call) =>
    [0, 1].map((task) => ({
      tool: 'plan_next',
      call_index: call,
      call_name: `plan_next#${call}`,
      arguments: {},
      path: `$.tasks[${task}].rank`,
      kind: 'added',
      candidate: task + 1,
      verdict: 'regression',
      reported: true,
      reason: 'baseline and replica agree; the candidate differs',
    })),
  ),
  totals: { calls: 2, diffs: 4, reported: 4, cancelled: 0 },
};

describe('shadow artifacts', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wvo-shadow-result-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes shadow.json and reads it back through the schema', async () => {
    const out = join(dir, 'experiments/mcp/upgrade/x');
    const file = await writeShadowJson(out, sampleResult);
    expect(file).toBe(join(out, 'shadow.json'));
    expect(await readShadowJson(file)).toEqual(sampleResult);
    expect(await readdir(out)).toEqual(['shadow.json']); // no temp file left behind
  });

  it('reads a version 1 shadow.json, upgraded: its diffs grouped and counted', async () => {
    await writeFile(join(dir, 'shadow.json'), JSON.stringify(V1_FILE));
    const read = await readShadowJson(join(dir, 'shadow.json'));
    expect(read.version).toBe(2);
    expect(read.diffs).toHaveLength(4);
    expect(read.groups).toEqual([
      expect.objectContaining({ tool: 'plan_next', path: '$.tasks[*].rank', kind: 'addition', count: 4, calls: [{ index: 0, name: 'plan_next#0' }, { index: 1, name: 'plan_next#1' }] }),
    ]);
    expect(read.totals).toMatchObject({ reported: 4, groups: 1, groups_reported: 1, count: 1 });
    expect(read.coverage.tools).toEqual([{ tool: 'plan_next', calls: 2, paths: [{ outcome: 'success', lanes: { baseline: 2, replica: 2, candidate: 2 } }] }]);
    expect(read.noise).toEqual({ lanes: ['replica'], repeats: 0, samples: 2, paths: [] });
  });

  it('counts state differences in `count`: reported answer groups + reported state differences', async () => {
    const group = { tool: 't', path: '$.a', kind: 'changed_value' as const, verdict: 'regression' as const, reported: true, count: 7, calls: [{ index: 0, name: 'c' }], example: { call_index: 0, call_name: 'c', path: '$.a', reason: 'r' } };
    const withGroup = { ...sampleResult, groups: [group, { ...group, path: '$.b', verdict: 'noise' as const, reported: false }] };
    const db = {
      database: 'orchestrator.db',
      samples: 1,
      user_version: { baseline: 1, candidate: 2 },
      schema: { additions: [{ type: 'column', name: 'tasks', column: 'rank' }], removals: [], changes: [] },
      groups: [],
      noisy_columns: [],
      reported: 2,
    };
    const result = withStateDiff(withGroup, { databases: [db], reported: 2 });
    expect(result.totals).toMatchObject({ groups: 2, groups_reported: 1, state_reported: 2, count: 3 });
    const file = await writeShadowJson(dir, result);
    expect((await readShadowJson(file)).state?.databases[0]?.schema.additions).toEqual([{ type: 'column', name: 'tasks', column: 'rank' }]);
  });

  it('refuses to write or read a malformed shadow.json', async () => {
    await expect(writeShadowJson(dir, { ...sampleResult, version: 3 } as unknown as ShadowResult)).rejects.toThrow();
    await expect(writeShadowJson(dir, { ...sampleResult, version: 1 } as unknown as ShadowResult)).rejects.toThrow();
    await writeFile(join(dir, 'shadow.json'), JSON.stringify({ ...V1_FILE, totals: {} }));
    await expect(readShadowJson(join(dir, 'shadow.json'))).rejects.toMatchObject({ code: 'WVO_SHADOW_ARTIFACT_INVALID', message: /totals/ });
    await writeFile(join(dir, 'shadow.json'), '{"version":1}');
    await expect(readShadowJson(join(dir, 'shadow.json'))).rejects.toMatchObject({ code: 'WVO_SHADOW_ARTIFACT_INVALID' });
  });

  it('writes upgrade_shadow.json atomically with a relative path and an ISO timestamp', async () => {
    const stateRoot = join(dir, 'state');
    const summary = await writeUpgradeShadowSummary({
      stateRoot,
      count: 3,
      shadowJsonPath: join(dir, 'experiments/mcp/upgrade/20261128-200000-abcdef/shadow.json'),
      relativeTo: dir,
      recordedAt: new Date('2026-11-28T20:00:05.000Z'),
    });
    expect(summary).toEqual({
      count: 3,
      path: 'experiments/mcp/upgrade/20261128-200000-abcdef/shadow.json',
      recorded_at: '2026-11-28T20:00:05.000Z',
    });
    expect(JSON.parse(await readFile(join(stateRoot, 'analytics/upgrade_shadow.json'), 'utf8'))).toEqual(summary);
    expect(await readdir(join(stateRoot, 'analytics'))).toEqual(['upgrade_shadow.json']);
    expect(await readUpgradeShadowSummary(stateRoot)).toEqual(summary);
  });

  it('writes the split of `count` (answer groups, state differences) when given', async () => {
    const summary = await writeUpgradeShadowSummary({
      stateRoot: dir,
      count: 5,
      answerGroups: 1,
      stateDifferences: 4,
      shadowJsonPath: join(dir, 'shadow.json'),
      relativeTo: dir,
      recordedAt: new Date('2026-12-01T00:00:00.000Z'),
    });
    expect(summary).toEqual({ count: 5, answer_groups: 1, state_differences: 4, path: 'shadow.json', recorded_at: '2026-12-01T00:00:00.000Z' });
    expect(await readUpgradeShadowSummary(dir)).toEqual(summary);
  });

  it('reads a missing summary as undefined and a corrupt one as a coded error', async () => {
    expect(await readUpgradeShadowSummary(dir)).toBeUndefined();
    await mkdir(join(dir, 'analytics'));
    await writeFile(join(dir, 'analytics/upgrade_shadow.json'), '{"count":-1,"path":"/abs","recorded_at":"yesterday"}');
    await expect(readUpgradeShadowSummary(dir)).rejects.toMatchObject({ code: 'WVO_SHADOW_ARTIFACT_INVALID' });
  });

  it('refuses a negative count', async () => {
    await expect(
      writeUpgradeShadowSummary({ stateRoot: dir, count: -1, shadowJsonPath: join(dir, 'a'), relativeTo: dir, recordedAt: new Date() }),
    ).rejects.toThrow();
    expect(await readUpgradeShadowSummary(dir)).toBeUndefined();
  });
});
