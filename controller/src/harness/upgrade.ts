import { resolve } from 'node:path';
import { systemClock } from '../../../common/src/clock.js';
import { isWvoError, toErrorJson } from '../../../common/src/errors.js';
import { newRunId } from '../../../common/src/ids.js';
import { silentLogger } from '../../../common/src/logger.js';
import { FINAL_LINES, upgradeExitCode, type UpgradeOptions } from './options.js';
import { StepRecorder } from './steps.js';
import { buildStep } from './steps/build.js';
import { runLayout } from './steps/layout.js';
import { lockStep } from './steps/lock.js';
import { preflightStep } from './steps/preflight.js';
import { pruneAfterRun } from './steps/prune.js';
import { RunResources } from './steps/run-resources.js';
import { StepRunner } from './steps/runner.js';
import { schemaCompatStep } from './steps/schema-compat.js';
import { shadowStep } from './steps/shadow.js';
import { snapshotStep } from './steps/snapshot.js';
import { stageStep } from './steps/stage.js';
import { summaryStep } from './steps/summary.js';
import { testStep } from './steps/test.js';
import { toolSurfaceStep } from './steps/tool-surface.js';
import { runImageUpgrade } from './image-upgrade.js';
import { WORKER_APP_CONFIG } from '../config/index.js';
import { WORKER_APP } from '../runtime/index.js';
import type { UpgradeContext, UpgradeResult } from './upgrade-context.js';

export type { LaneImageBuilder, StagedPruneSummary, UpgradeApp, UpgradeContext, UpgradeEvent, UpgradeResult } from './upgrade-context.js';

/**
 * `wvo upgrade` (DESIGN §4): preflight → lock → stage → build → test → snapshot → shadow →
 * schema-compat → summary, each a step in steps/ fed the outputs it needs. Every step is recorded
 * in steps.json as it ends; a hard failure records `failed`, cleans up (lanes, stage, lock) and
 * leaves upgrade_shadow.json untouched.
 */
export async function runUpgrade(options: UpgradeOptions, context: UpgradeContext): Promise<UpgradeResult> {
  const clock = context.clock ?? systemClock;
  const logger = context.logger ?? silentLogger();
  const id = context.id ?? newRunId(new Date(clock.now()));
  const projectRoot = resolve(context.projectRoot);
  const stateRoot = resolve(context.stateRoot);
  const { runtime, images, signal } = context;
  const layout = runLayout(projectRoot, id);
  const recorder = new StepRecorder(id, layout.stepsFile, clock);
  const emit = context.onEvent ?? (() => undefined);
  const runner = new StepRunner({ recorder, clock, emit, ...(signal ? { signal } : {}) });
  const held = new RunResources({ runtime, logger, stageRoot: layout.stageRoot, keepStage: options.keepStage });

  const result: UpgradeResult = {
    id,
    outcome: 'failed',
    exitCode: 1,
    finalLine: undefined,
    artifactsDir: layout.artifactsDir,
    steps: recorder.steps,
    testsSkipped: options.skipTests,
    app: context.app?.name ?? options.app,
    source: options.candidate ? 'image' : 'workspace',
  };

  /** Our worker from its workspace: stage → build → test → snapshot → shadow → schema-compat → tool-surface → summary. */
  const workerSteps = async () => {
    const { suite, suiteSource } = await runner.run(preflightStep, { options, runtime, tmpRoot: layout.tmpRoot });
    await runner.run(lockStep, { id, stateRoot, projectRoot, clock, hold: (lock) => held.holdLock(lock) });
    const { candidate, baseline } = await runner.run(stageStep, { options, layout, projectRoot, runtime, images, logger });
    const buildScript = (context.app?.config ?? WORKER_APP_CONFIG).workspace?.buildScript;
    const built = await runner.run(buildStep, { id, candidate, baseline, buildCache: layout.buildCache, ...(buildScript ? { buildScript } : {}), images, logger });
    result.candidateImage = built.candidateImage;
    result.baselineImage = built.baselineImage;
    await runner.run(testStep, { options, candidate });
    const { copies, manifest } = await runner.run(snapshotStep, { stateRoot, copies: layout.snapshots, live: { runtime, liveDir: layout.liveSnapshot }, logger, clock });
    const { result: shadow, mode, surfaces } = await runner.run(shadowStep, {
      id,
      suite,
      suiteSource,
      images: built,
      copies,
      manifest,
      fresh: layout.fresh,
      strictDryRun: options.strictDryRun,
      lanes: held.lanes,
      laneName: layout.laneName,
      readyTimeoutMs: options.readyTimeoutMs,
      clock,
      ...(signal ? { signal } : {}),
    });
    result.schemaCompat = await runner.run(schemaCompatStep, {
      id,
      runtime,
      images: built,
      stateDir: copies.compat,
      lanes: held.lanes,
      laneName: layout.laneName,
      readyTimeoutMs: options.readyTimeoutMs,
      suite,
      shadow,
      mode,
    });
    const toolSurface = await runner.run(toolSurfaceStep, { ...surfaces, allowBreaking: options.allowBreaking });
    result.toolSurface = { breaking: toolSurface.breaking, additive: toolSurface.additive, informational: toolSurface.informational };
    result.shadow = await runner.run(summaryStep, {
      id,
      artifactsDir: layout.artifactsDir,
      stateRoot,
      projectRoot,
      shadow: { ...shadow, tool_surface: toolSurface },
      steps: recorder.steps,
      clock,
    });
    return built;
  };

  try {
    if (options.candidate) {
      // Image to image (--app NAME --candidate IMAGE): no stage, build or test (image-upgrade.ts).
      const app = context.app ?? { name: options.app, config: WORKER_APP_CONFIG, lane: WORKER_APP };
      await runImageUpgrade({ options, app, runtime, runner, recorder, held, layout, id, stateRoot, projectRoot, clock, logger, result, ...(signal ? { signal } : {}) });
      result.outcome = recorder.outcome();
    } else {
      const built = await workerSteps();
      result.outcome = recorder.outcome();
      if (result.outcome !== 'failed' && context.pruneStaged && !signal?.aborted) {
        const say = (message: string) => emit({ type: 'message', name: 'summary', message: `prune: ${message}` });
        result.prune = await pruneAfterRun({ prune: context.pruneStaged, images: built, logger, say });
      }
    }
  } catch (error) {
    result.outcome = 'failed';
    result.error = toErrorJson(error);
    if (!isWvoError(error)) logger.error({ err: error }, 'upgrade failed unexpectedly');
  } finally {
    await held.release();
    recorder.finish();
  }
  result.exitCode = upgradeExitCode(result.outcome, options.ci);
  result.finalLine = result.outcome === 'failed' ? undefined : FINAL_LINES[result.outcome];
  return result;
}
