import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp } from '../../common/src/mcp-client.js';
import type { LaneRuntime } from '../../controller/src/runtime/lane-runtime.js';
import { seedState } from './runtime-fixtures.js';

/**
 * One contract, every runtime: whatever a lane does on Docker it does as a local process and as a
 * Swarm service too (test/integration/runtime-contract.test.ts, runtime-swarm.test.ts).
 * Each runtime provides a factory (a fresh instance = a restarted controller) and two "images":
 * the real worker and the fake worker whose failure modes are chosen by env.
 */
export interface Fixture {
  make(): LaneRuntime;
  worker: string;
  fake: string;
  /** Lanes this fixture's runtime can see by other means (docker ps), to prove nothing is left. */
  leftovers(): Promise<number>;
  /** Where its lanes are reached (default: a port on 127.0.0.1). */
  urlPattern?: RegExp;
  /** How long a healthy lane may take to be ready (default READY_MS); a runtime that needs more says why. */
  readyMs?: number;
}

const READY_MS = 20_000;

export function contract(name: string, describeFn: typeof describe, setup: () => Promise<Fixture>, teardown: () => Promise<void>) {
  describeFn(`${name} runtime contract`, () => {
    let fx: Fixture;
    let runtime: LaneRuntime;
    let work: string;
    const state = (sub: string) => {
      const dir = join(work, sub);
      return dir;
    };

    beforeAll(async () => {
      fx = await setup();
      runtime = fx.make();
      work = mkdtempSync(join(tmpdir(), `wvo-contract-${name}-`));
    });
    afterAll(async () => {
      for (const lane of (await runtime?.listLanes().catch(() => [])) ?? []) await runtime.removeLane(lane.name, { timeoutMs: 2000 }).catch(() => undefined);
      await teardown();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('starts a live lane that is ready, answers MCP, lists, reports health and logs', async () => {
      const dir = await seedState(state('blue'));
      const lane = await runtime.startLane({ name: 'blue', image: fx.worker, stateDir: dir, deploymentId: 'dep-1' }, { readyTimeoutMs: fx.readyMs ?? READY_MS });
      expect(lane).toMatchObject({ name: 'blue', status: 'ready', role: 'live', dryRun: false, deploymentId: 'dep-1' });
      expect(lane.url).toMatch(fx.urlPattern ?? /^http:\/\/127\.0\.0\.1:\d+$/);
      const version = (await (await fetch(`${lane.url}/version`)).json()) as { dry_run: boolean };
      expect(version.dry_run).toBe(false);
      const mcp = await connectMcp(lane.url!, 'contract-test');
      try {
        const status = await mcp.call('orchestrator_status');
        expect(status.isError).toBe(false);
      } finally {
        await mcp.close();
      }
      expect((await runtime.listLanes()).map((l) => [l.name, l.status])).toEqual([['blue', 'ready']]);
      expect(await runtime.health('blue')).toMatchObject({ ready: true, status: 'ready', httpStatus: 200 });
      expect(await runtime.logs('blue')).toContain('"listening"');
    });

    it('a new runtime instance (restarted controller) rediscovers the lane', async () => {
      const fresh = fx.make();
      const [lane] = await fresh.listLanes();
      expect(lane).toMatchObject({ name: 'blue', status: 'ready', role: 'live', deploymentId: 'dep-1', stateDir: state('blue') });
      expect((await fetch(`${lane!.url}/readyz`)).status).toBe(200);
      await fresh.close();
    });

    it('refuses a second lane with the same name', async () => {
      await expect(runtime.startLane({ name: 'blue', image: fx.worker, stateDir: state('blue') })).rejects.toMatchObject({ code: 'WVO_LANE_NAME_TAKEN' });
    });

    it('stops (SIGTERM) and removes; remove is idempotent', async () => {
      const stopped = await runtime.stopLane('blue', { timeoutMs: 10_000 });
      expect(stopped.status).toBe('stopped');
      expect(stopped.url).toBeUndefined();
      expect(await runtime.health('blue')).toMatchObject({ ready: false, status: 'stopped' });
      await runtime.removeLane('blue');
      await runtime.removeLane('blue');
      expect(await runtime.listLanes()).toEqual([]);
      await expect(runtime.stopLane('blue')).rejects.toMatchObject({ code: 'WVO_LANE_NOT_FOUND' });
    });

    it('bad input: missing state dir, unknown image, bad name — nothing started', async () => {
      await expect(runtime.startLane({ name: 'x1', image: fx.worker, stateDir: state('nope') })).rejects.toMatchObject({ code: 'WVO_STATE_DIR_MISSING' });
      await expect(runtime.startLane({ name: 'x2', image: 'wvo-no-such-image:0', stateDir: work })).rejects.toMatchObject({ code: 'WVO_IMAGE_NOT_FOUND' });
      await expect(runtime.startLane({ name: 'Bad Name', image: fx.worker, stateDir: work })).rejects.toMatchObject({ code: 'WVO_LANE_NAME_INVALID' });
      expect(await runtime.listLanes()).toEqual([]);
      expect(await fx.leftovers()).toBe(0);
    });

    // The failing lanes are live lanes of the same deployment as blue, on its live state: a project
    // has ONE live state per volume-mode host (docker/live-state.ts), and a failed start must leave it as it was.
    it('a lane that exits during startup fails with its last log lines and leaves nothing', async () => {
      const error = await runtime
        .startLane({ name: 'crash', image: fx.fake, stateDir: state('blue'), env: { FAKE_EXIT_CODE: '3' } }, { readyTimeoutMs: fx.readyMs ?? READY_MS })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'WVO_LANE_EXITED', details: { exitCode: 3 } });
      expect((error as Error).message).toContain('refusing to start (FAKE_EXIT_CODE=3)');
      expect(await runtime.listLanes()).toEqual([]);
      expect(await fx.leftovers()).toBe(0);
    });

    it('a lane not ready by the deadline fails with WVO_LANE_NOT_READY and leaves nothing', async () => {
      const error = await runtime
        .startLane({ name: 'slow', image: fx.fake, stateDir: state('blue'), env: { FAKE_NEVER_READY: '1' } }, { readyTimeoutMs: 1500 })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'WVO_LANE_NOT_READY', subject: 'slow' });
      expect(await runtime.listLanes()).toEqual([]);
      expect(await fx.leftovers()).toBe(0);
    });
  });
}

