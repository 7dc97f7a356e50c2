import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../controller/src/runtime/local/local-runtime.js';
import { LANE_KEY_ENV, findKeyed, isAlive } from '../../controller/src/runtime/local/process-table.js';
import { REPO_ROOT, seedState } from '../helpers/runtime-fixtures.js';

/**
 * A controller killed between a lane's spawn and its record leaves a worker no record names. The
 * local runtime keys every lane process (`WVO_LANE_KEY`) and kills such a process before it starts
 * the lane again, and when it stops the lane, so `wvo resume` never runs two workers on one state.
 */
let work: string | undefined;
const spawned: ChildProcess[] = [];
let runtime: LocalRuntime | undefined;
afterEach(async () => {
  for (const lane of (await runtime?.listLanes()) ?? []) await runtime!.removeLane(lane.name, { timeoutMs: 2_000 }).catch(() => undefined);
  runtime = undefined;
  for (const child of spawned.splice(0)) if (child.pid && isAlive(child.pid)) process.kill(child.pid, 'SIGKILL');
  if (work) rmSync(work, { recursive: true, force: true });
  work = undefined;
});

/** A worker started the way the runtime starts one, but whose record was never written. */
async function unrecordedWorker(runDir: string, stateDir: string, name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/worker/src/main.js'), 'serve'], {
    env: { ...process.env, WVO_PORT: '0', WVO_STATE_ROOT: stateDir, [LANE_KEY_ENV]: join(runDir, name) },
    stdio: ['ignore', 'pipe', 'ignore'],
    detached: true,
  });
  spawned.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('"listening"') && resolve());
    child.once('exit', (code) => reject(new Error(`worker exited ${code}`)));
  });
  return child;
}

describe('local runtime: a lane process no record names', () => {
  it('is killed when the lane is started again; the new lane is the only worker keyed to it', async () => {
    work = mkdtempSync(join(tmpdir(), 'wvo-orphan-'));
    const runDir = join(work, 'run');
    const stateDir = await seedState(join(work, 'state'));
    const orphan = await unrecordedWorker(runDir, stateDir, 'blue');
    expect(findKeyed(join(runDir, 'blue'))).toEqual([orphan.pid]);

    runtime = new LocalRuntime({ runDir, trees: { worker: REPO_ROOT }, readyTimeoutMs: 20_000, stopTimeoutMs: 5_000 });
    const lane = await runtime.startLane({ name: 'blue', image: 'worker', stateDir });
    expect(lane.status).toBe('ready');
    expect(isAlive(orphan.pid!)).toBe(false);
    expect(findKeyed(join(runDir, 'blue'))).toEqual([Number(lane.id)]);

    // Stopping the lane also takes any untracked process keyed to it.
    const second = await unrecordedWorker(runDir, stateDir, 'blue');
    await runtime.stopLane('blue');
    expect(isAlive(second.pid!)).toBe(false);
    expect(findKeyed(join(runDir, 'blue'))).toEqual([]);
    await runtime.removeLane('blue');
  });
});
