/**
 * `npx tsx bench/harness.ts [--runtime local|docker] [--tasks 500]`: per-step times of `wvo upgrade`
 * on a real workspace (this project, copied into a temp git repo) and a seeded state, for
 *   cold  — empty dependency/build caches, first image build;
 *   warm  — a code-only change (one worker source line) with the caches from the cold run.
 * Prints both side by side. Snapshot throughput against `cp` is bench/snapshot.ts.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseUpgradeOptions } from '../controller/src/harness/options.js';
import { runUpgrade, type UpgradeResult } from '../controller/src/harness/upgrade.js';
import { openCliContext } from '../controller/src/cli/context.js';
import { DockerRuntime, LocalRuntime, localImageStore } from '../controller/src/runtime/index.js';
import { seedState } from '../worker/src/index.js';
import { makeTempWorkspace } from '../test/helpers/workspace.js';
import { STEP_NAMES } from '../controller/src/harness/steps.js';
import { usageOnHelp } from './usage.js';

usageOnHelp(import.meta.url);

function flag(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

const runtimeKind = flag('runtime', 'local');
const tasks = Number(flag('tasks', '500'));

const ws = await makeTempWorkspace('wvo-bench-harness-');
try {
  const stateRoot = join(ws.dir, 'state');
  seedState({ stateRoot, tasks, seed: 42 });
  const context =
    runtimeKind === 'docker'
      ? await openCliContext({ runtime: 'docker' })
      : { runtime: new LocalRuntime({ runDir: join(ws.root, 'run') }), images: localImageStore(ws.dir) };

  const run = async (label: string): Promise<UpgradeResult> => {
    process.stderr.write(`[bench] ${label} run…\n`);
    const options = parseUpgradeOptions({ workspace: ws.dir, allowDirty: true, skipTests: true });
    const result = await runUpgrade(options, { projectRoot: ws.dir, stateRoot, runtime: context.runtime, images: context.images });
    if (result.outcome === 'failed') throw new Error(`${label} run failed: ${JSON.stringify(result.error)}`);
    return result;
  };

  const cold = await run('cold');
  appendFileSync(join(ws.dir, 'worker/src/tools/plan-next.ts'), '\n// bench: a code-only change\n');
  const warm = await run('warm (code-only change)');

  const seconds = (result: UpgradeResult, name: string) => {
    const step = result.steps.find((s) => s.name === name);
    return step ? (step.duration_ms / 1000).toFixed(1) : '-';
  };
  const total = (result: UpgradeResult) => (result.steps.reduce((sum, s) => sum + s.duration_ms, 0) / 1000).toFixed(1);
  // The shadow step counts its calls per pass (snapshot, fresh-state).
  const calls = cold.steps.find((s) => s.name === 'shadow')?.detail.calls as { snapshot: number; fresh: number } | undefined;
  console.log(`\nwvo upgrade per-step seconds (runtime ${runtimeKind}, ${tasks} tasks, ${calls?.snapshot} + ${calls?.fresh} fresh-state suite calls)\n`);
  console.log(`| step          | cold  | warm (code-only) |`);
  console.log(`| ------------- | ----- | ---------------- |`);
  for (const name of STEP_NAMES) console.log(`| ${name.padEnd(13)} | ${seconds(cold, name).padStart(5)} | ${seconds(warm, name).padStart(16)} |`);
  console.log(`| **total**     | ${total(cold).padStart(5)} | ${total(warm).padStart(16)} |`);
  console.log(`\nwarm build detail: ${JSON.stringify(warm.steps.find((s) => s.name === 'build')?.detail)}`);
  if (context.runtime instanceof DockerRuntime) {
    // The staged tags this run made (shared layers stay as build cache).
    const { docker } = context.runtime.host();
    for (const result of [cold, warm]) {
      for (const tag of [`wvo-worker:${result.id}`, `wvo-worker:${result.id}-baseline`]) await docker.getImage(tag).remove().catch(() => undefined);
    }
    // The project network its shadow lanes used (refused by the engine while anything is attached).
    await docker.getNetwork(context.runtime.network).remove().catch(() => undefined);
  }
  await context.runtime.close();
} finally {
  ws.cleanup();
}
