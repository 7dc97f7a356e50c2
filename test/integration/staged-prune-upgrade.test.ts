import { existsSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WvoError } from '../../common/src/errors.js';
import { parseConfig } from '../../controller/src/config/index.js';
import { localImageStore } from '../../controller/src/runtime/index.js';
import { parseUpgradeOptions } from '../../controller/src/harness/options.js';
import { upgradePruner } from '../../controller/src/harness/staged-prune.js';
import { runUpgrade, type UpgradeContext, type UpgradeEvent } from '../../controller/src/harness/upgrade.js';
import { LocalRuntime } from '../../controller/src/runtime/local/local-runtime.js';
import { seedState } from '../../worker/src/index.js';
import { makeFakeWorkerTree } from '../helpers/runtime-fixtures.js';
import { makeTempWorkspace, type TempWorkspace } from '../helpers/workspace.js';

/** The prune at the end of `wvo upgrade` (local runtime, images.keepStaged 0). */
let ws: TempWorkspace;
let runtime: LocalRuntime;
let stateRoot: string;
const config = parseConfig({ images: { keepStaged: 0 } });

async function upgrade(pruneStaged: UpgradeContext['pruneStaged']) {
  const messages: string[] = [];
  const result = await runUpgrade(parseUpgradeOptions({ workspace: ws.dir, skipTests: true, readyTimeoutMs: 30_000 }), {
    projectRoot: ws.dir,
    stateRoot,
    runtime,
    images: localImageStore(ws.dir),
    pruneStaged,
    onEvent: (event: UpgradeEvent) => event.type === 'message' && messages.push(event.message),
  });
  return { result, messages };
}

beforeAll(async () => {
  ws = await makeTempWorkspace('wvo-gc-upgrade-');
  stateRoot = join(ws.dir, 'state');
  seedState({ stateRoot, tasks: 40, seed: 3 });
  runtime = new LocalRuntime({ runDir: join(stateRoot, 'runtime', 'local') });
}, 120_000);

afterAll(async () => {
  for (const lane of (await runtime?.listLanes()) ?? []) await runtime.removeLane(lane.name).catch(() => undefined);
  ws?.cleanup();
});

describe('wvo upgrade prunes after a completed run', () => {
  it('removes unused staged trees, keeps this run\'s and a stopped lane\'s; the next run still reuses its tree', async () => {
    const trees = join(ws.dir, 'tmp', 'wv-images');
    const stale = makeFakeWorkerTree(join(trees, 'stale'));
    const laneTree = makeFakeWorkerTree(join(trees, 'rollback-target'));
    mkdirSync(join(ws.root, 'lane-state'), { recursive: true });
    await runtime.startLane({ name: 'blue', image: laneTree, stateDir: join(ws.root, 'lane-state'), role: 'live' });
    await runtime.stopLane('blue');
    const pruner = upgradePruner({ projectRoot: ws.dir, stateRoot, runtime, config, workspace: ws.dir });

    const first = await upgrade(pruner);
    expect(first.result.error).toBeUndefined();
    expect(first.result.outcome).not.toBe('failed');
    expect(first.result.prune?.warning).toBeUndefined();
    expect(first.result.prune?.removed).toContain(`tree ${relative(ws.dir, stale)}`);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(join(laneTree, 'dist', 'worker', 'src', 'main.js'))).toBe(true);
    for (const image of [first.result.candidateImage!, first.result.baselineImage!]) expect(existsSync(join(image, 'dist', 'worker', 'src', 'main.js'))).toBe(true);
    expect(first.messages.some((m) => m.startsWith('prune: removing tree'))).toBe(true);

    // Same sources again: the staged tree and the compiled build cache survived the prune and are reused.
    const second = await upgrade(pruner);
    expect(second.result.error).toBeUndefined();
    expect(second.result.candidateImage).toBe(first.result.candidateImage);
    expect(second.messages.some((m) => m.includes('same sources, reused'))).toBe(true);
    expect(second.result.steps.find((s) => s.name === 'build')?.detail.candidate_tree).toBe('cache-hit');
  });

  it('a prune that fails is a warning on a run that passed', async () => {
    const { result } = await upgrade(async () => {
      throw new WvoError('WVO_ENGINE_UNREACHABLE', 'engine went away');
    });
    expect(result.error).toBeUndefined();
    expect(result.outcome).not.toBe('failed');
    expect(result.prune?.warning).toBe('WVO_ENGINE_UNREACHABLE: engine went away');
  });
});
