import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../controller/src/config/index.js';
import { parseUpgradeOptions } from '../../controller/src/harness/options.js';
import { runUpgrade } from '../../controller/src/harness/upgrade.js';
import { laneAppFrom, LocalRuntime } from '../../controller/src/runtime/index.js';
import { cleanupAfterEach } from '../helpers/cleanup.js';
import { EVERYTHING, everythingApp } from '../helpers/everything.js';

const defer = cleanupAfterEach();
const ODD_APP = join(import.meta.dirname, '..', 'fixtures', 'odd-mcp-app.mjs');

/** One image-to-image run on the local runtime, in a scratch project; returns the result and what is left. */
async function run(app: ReturnType<typeof everythingApp>, candidate: string, baseline: string, readyTimeoutMs = 20_000) {
  const dir = mkdtempSync(join(tmpdir(), 'wvo-apps-bad-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const runtime = new LocalRuntime({ runDir: join(dir, 'run') });
  const result = await runUpgrade(parseUpgradeOptions({ app: app.name, candidate, baseline, readyTimeoutMs }), {
    projectRoot: dir,
    stateRoot: join(dir, 'state'),
    runtime,
    images: { build: () => Promise.reject(new Error('image runs build nothing')), exists: () => Promise.resolve(true) },
    app,
  });
  return { result, lanes: await runtime.listLanes(), summaryWritten: existsSync(join(dir, 'state', 'analytics', 'upgrade_shadow.json')) };
}

function oddApp(): ReturnType<typeof everythingApp> {
  const config: AppConfig = { command: ['node', ODD_APP, '{image}'], port: 3001, mcpPath: '/mcp', health: 'mcp', env: { port: 'PORT' }, state: { kind: 'none' }, suites: [], safeTools: [] };
  return { name: 'odd', config, lane: laneAppFrom('odd', config, process.cwd()) };
}

describe('apps: bad input is a coded error naming the app and the field; nothing switched', () => {
  it('an image that does not exist (the local command has no such version)', async () => {
    const { result, lanes } = await run(everythingApp(), 'everything-zzz', EVERYTHING.a);
    expect(result.error).toMatchObject({ code: 'WVO_APP_IMAGE_NOT_FOUND', subject: '--candidate', message: expect.stringContaining('app everything') });
    expect(result.steps.find((s) => s.name === 'build')?.status).toBe('failed');
    expect(lanes).toEqual([]);
  });

  it('a health spec that never passes', async () => {
    const { result, lanes, summaryWritten } = await run(everythingApp({ health: '/readyz' }), EVERYTHING.b, EVERYTHING.a, 3_000);
    expect(result.error).toMatchObject({ code: 'WVO_APP_NOT_READY', subject: 'apps.everything.port', message: expect.stringContaining('app everything') });
    expect(result.error?.message).toContain('/readyz');
    expect([lanes, summaryWritten]).toEqual([[], false]);
  }, 60_000);

  it('a server that is not MCP (answers HTML)', async () => {
    const { result, lanes, summaryWritten } = await run(oddApp(), 'html', 'html', 3_000);
    expect(result.error).toMatchObject({ code: 'WVO_APP_NOT_READY', subject: 'apps.odd.health' });
    expect(result.error?.message).toMatch(/app odd: .*not an MCP server: POST \/mcp answered 200 text\/html/s);
    expect([lanes, summaryWritten]).toEqual([[], false]);
  }, 60_000);

  it('a tools/list with an invalid JSON Schema', async () => {
    const { result, lanes, summaryWritten } = await run(oddApp(), 'broken-schema', 'broken-schema');
    expect(result.error).toMatchObject({
      code: 'WVO_SHADOW_SCHEMA_INVALID',
      message: expect.stringContaining('app odd: '),
      details: expect.objectContaining({ app: 'odd', tool: 'lookup', field: 'inputSchema.properties.key.type' }),
    });
    expect(result.steps.find((s) => s.name === 'tool-surface')?.status).toBe('failed');
    expect([lanes, summaryWritten]).toEqual([[], false]);
  }, 60_000);
});
