import type { Clock } from '../../../common/src/clock.js';
import type { Logger } from '../../../common/src/logger.js';
import type { LaneRuntime } from '../runtime/index.js';
import { loadSuite, type Suite } from '../shadow/index.js';
import type { UpgradeOptions } from './options.js';
import type { StepRecorder } from './steps.js';
import { appImagesStep } from './steps/app-images.js';
import { appShadowStep } from './steps/app-shadow.js';
import type { RunLayout } from './steps/layout.js';
import { lockStep } from './steps/lock.js';
import type { RunResources } from './steps/run-resources.js';
import type { StepRunner } from './steps/runner.js';
import { skippedStep } from './steps/skipped.js';
import { snapshotStep } from './steps/snapshot.js';
import type { UpgradeStep } from './steps/step.js';
import { summaryStep } from './steps/summary.js';
import { toolSurfaceStep } from './steps/tool-surface.js';
import type { UpgradeApp, UpgradeResult } from './upgrade-context.js';

export interface ImageUpgradeInput {
  options: UpgradeOptions;
  app: UpgradeApp;
  runtime: LaneRuntime;
  runner: StepRunner;
  recorder: StepRecorder;
  held: RunResources;
  layout: RunLayout;
  id: string;
  stateRoot: string;
  projectRoot: string;
  clock: Clock;
  logger: Logger;
  result: UpgradeResult;
  signal?: AbortSignal;
}

/** A stateless app has nothing an old version could fail to read: rollback-safe by construction. */
const statelessCompatStep: UpgradeStep<string, void> = {
  name: 'schema-compat',
  async run(app) {
    return { detail: { safe: true, reason: `app ${app} keeps no state (state.kind none): nothing to migrate, rollback is a switch back` }, output: undefined };
  },
};

/** The app's suite: --suite, else its first configured suite, else none (the default app suite). */
const appPreflightStep: UpgradeStep<{ options: UpgradeOptions; app: UpgradeApp; runtime: LaneRuntime }, { suite: Suite | undefined; suiteSource: string }> = {
  name: 'preflight',
  async run({ options, app, runtime }) {
    const file = options.suite ?? app.config.suites[0];
    const suite = file ? await loadSuite(file) : undefined;
    const lanes = await runtime.listLanes();
    return {
      detail: {
        mode: 'image-to-image',
        app: app.name,
        runtime: runtime.kind,
        lanes_running: lanes.length,
        suite: file ?? 'default app suite (one call per tool both versions list; read-only ones when the app has no shadow mode)',
        ...(suite ? { suite_calls: suite.calls.length } : {}),
      },
      output: { suite, suiteSource: file ?? 'default app suite' },
    };
  },
};

/**
 * `wvo upgrade --app NAME --candidate IMAGE [--baseline IMAGE]`: preflight → lock → (stage, build
 * and test skipped: the images exist) → snapshot (per the app's state kind) → shadow →
 * (schema-compat skipped: it probes our worker's migrations) → tool-surface → summary. The same
 * runner, recorder and artifacts as the workspace path, so steps.json, shadow.json and
 * report.html read the same, and --promote sees the same gates.
 */
export async function runImageUpgrade(input: ImageUpgradeInput): Promise<void> {
  const { options, app, runtime, runner, recorder, held, layout, id, stateRoot, projectRoot, clock, logger, result, signal } = input;
  const candidate = options.candidate!;
  const { suite, suiteSource } = await runner.run(appPreflightStep, { options, app, runtime });
  await runner.run(lockStep, { id, stateRoot, projectRoot, clock, hold: (lock) => held.holdLock(lock) });
  await runner.run(skippedStep('stage', `image-to-image: --candidate ${candidate} is already built`), undefined);
  const images = await runner.run(appImagesStep, { app, candidate, baseline: options.baseline, runtime });
  result.candidateImage = images.candidateImage;
  result.baselineImage = images.baselineImage;
  await runner.run(skippedStep('test', `image-to-image: the image ${candidate} is tested by whoever built it`), undefined);
  const stateful = app.config.state.kind !== 'none';
  const copies = stateful
    ? (await runner.run(snapshotStep, { stateRoot, copies: layout.snapshots, live: { runtime, liveDir: layout.liveSnapshot }, logger, clock })).copies
    : (await runner.run(skippedStep('snapshot', `app ${app.name} keeps no state (state.kind none)`), undefined), undefined);
  const shadow = await runner.run(appShadowStep, {
    id,
    app,
    suite,
    suiteSource,
    images,
    copies,
    empty: layout.fresh,
    lanes: held.lanes,
    laneName: layout.laneName,
    readyTimeoutMs: options.readyTimeoutMs,
    clock,
    ...(signal ? { signal } : {}),
  });
  if (stateful) await runner.run(skippedStep('schema-compat', `app ${app.name}: its ${app.config.state.kind} state has no migrations WVO can probe; promotion needs --allow-contract`), undefined);
  else await runner.run(statelessCompatStep, app.name);
  const surface = await runner.run(toolSurfaceStep, { ...shadow.surfaces, allowBreaking: options.allowBreaking, app: app.name });
  result.toolSurface = { breaking: surface.breaking, additive: surface.additive, informational: surface.informational };
  result.shadow = await runner.run(summaryStep, {
    id,
    artifactsDir: layout.artifactsDir,
    stateRoot,
    projectRoot,
    shadow: { ...shadow.result, tool_surface: surface },
    steps: recorder.steps,
    clock,
  });
}
