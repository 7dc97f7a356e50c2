import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  readShadowJson,
  readUpgradeShadowSummary,
  writeShadowJson,
  writeUpgradeShadowSummary,
  type ShadowResult,
} from '../../controller/src/shadow/index.js';

const sampleResult: ShadowResult = {
  version: 1,
  started_at: '2026-11-28T20:00:00.000Z',
  finished_at: '2026-11-28T20:00:01.000Z',
  lanes: { baseline: 'http://b', replica: 'http://r', candidate: 'http://c' },
  thresholds: { relative: 1, absolute: 0, proportional: 0.05, timestamp_tolerance_ms: 2000 },
  calls: [],
  diffs: [],
  totals: { calls: 0, diffs: 0, reported: 0, cancelled: 0 },
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

  it('refuses to write or read a malformed shadow.json', async () => {
    await expect(writeShadowJson(dir, { ...sampleResult, version: 2 } as unknown as ShadowResult)).rejects.toThrow();
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
