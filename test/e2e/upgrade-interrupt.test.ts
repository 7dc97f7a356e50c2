import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../controller/src/runtime/index.js';
import { seedState } from '../../worker/src/index.js';
import { makeTempWorkspace, PROJECT_ROOT, type TempWorkspace } from '../helpers/workspace.js';

const CLI = join(PROJECT_ROOT, 'dist/controller/src/cli/main.js');
let ws: TempWorkspace;

beforeAll(async () => {
  ws = await makeTempWorkspace('wvo-ws-interrupt-');
  seedState({ stateRoot: join(ws.dir, 'state'), tasks: 60, seed: 3 });
}, 120_000);

afterAll(async () => {
  const runtime = new LocalRuntime({ runDir: join(ws.dir, 'state', 'runtime', 'local') });
  for (const lane of await runtime.listLanes()) await runtime.removeLane(lane.name).catch(() => undefined);
  ws?.cleanup();
});

describe('wvo upgrade, Ctrl-C', () => {
  it('stops, removes its shadow lanes, stage and lock, writes no summary, exits 130', async () => {
    const child = execa('node', [CLI, 'upgrade', '--runtime', 'local', '--skip-tests'], {
      cwd: ws.dir,
      reject: false,
      env: { WVO_LOG_LEVEL: 'warn' },
      timeout: 240_000,
    });
    let stderr = '';
    const inShadow = new Promise<void>((resolve) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('[upgrade] shadow …')) resolve();
      });
    });
    await Promise.race([inShadow, child]);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, stderr).toBe(130);
    expect(stderr).toContain('interrupted: cleaning up');
    expect(stderr).toContain('WVO_INTERRUPTED');
    const runtime = new LocalRuntime({ runDir: join(ws.dir, 'state', 'runtime', 'local') });
    expect(await runtime.listLanes()).toEqual([]);
    expect(existsSync(join(ws.dir, 'state', 'upgrade.lock'))).toBe(false);
    expect(existsSync(join(ws.dir, 'state', 'analytics', 'upgrade_shadow.json'))).toBe(false);
    const tmp = join(ws.dir, 'tmp');
    expect(existsSync(tmp) ? readdirSync(tmp).filter((name) => name.startsWith('wv-upgrade-')) : []).toEqual([]);
  }, 300_000);
});
