import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parseUpgradeOptions, type UpgradeOptionsInput } from '../../controller/src/harness/options.js';
import { runUpgrade, type UpgradeResult } from '../../controller/src/harness/upgrade.js';
import { LocalRuntime, localImageStore } from '../../controller/src/runtime/index.js';
import { seedState } from '../../worker/src/index.js';
import { makeTempWorkspace, type TempWorkspace } from './workspace.js';

/** The harness on real lanes: a temp git workspace of this project, a seeded live state, the local runtime. */
export interface HarnessRig {
  ws: TempWorkspace;
  stateRoot: string;
  runtime: LocalRuntime;
  /** `wvo upgrade` of the workspace with the rig's defaults under `input`. */
  upgrade(input?: Partial<UpgradeOptionsInput>): Promise<UpgradeResult>;
  /** No lane left, the lock released, the run's scratch dir gone. */
  expectNothingLeft(result: UpgradeResult): Promise<void>;
  close(): Promise<void>;
}

export async function startHarnessRig(options: { prefix?: string; defaults: Partial<UpgradeOptionsInput> }): Promise<HarnessRig> {
  const ws = await makeTempWorkspace(options.prefix);
  const stateRoot = join(ws.dir, 'state');
  seedState({ stateRoot, tasks: 120, seed: 11 });
  const runtime = new LocalRuntime({ runDir: join(ws.root, 'run') });
  return {
    ws,
    stateRoot,
    runtime,
    upgrade(input = {}) {
      const parsed = parseUpgradeOptions({ workspace: ws.dir, skipTests: true, ...options.defaults, ...input });
      return runUpgrade(parsed, { projectRoot: ws.dir, stateRoot, runtime, images: localImageStore(ws.dir) });
    },
    async expectNothingLeft(result) {
      expect(await runtime.listLanes()).toEqual([]);
      expect(existsSync(join(stateRoot, 'upgrade.lock'))).toBe(false);
      expect(existsSync(join(ws.dir, 'tmp', `wv-upgrade-${result.id}`))).toBe(false);
    },
    async close() {
      for (const lane of await runtime.listLanes()) await runtime.removeLane(lane.name).catch(() => undefined);
      ws.cleanup();
    },
  };
}
