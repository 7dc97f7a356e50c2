import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { systemClock, type Clock } from '../../../common/src/clock.js';
import { isWvoError, toErrorJson, WvoError } from '../../../common/src/errors.js';
import { newRunId } from '../../../common/src/ids.js';
import { silentLogger, type Logger } from '../../../common/src/logger.js';
import type { LaneInfo, LaneRole, LaneRuntime } from '../runtime/lane-runtime.js';
import {
  defaultSuite,
  loadSuite,
  runShadow,
  writeReportHtml,
  writeShadowJson,
  writeUpgradeShadowSummary,
  type ShadowResult,
  type Suite,
} from '../shadow/index.js';
import { CONTROLLER_DB_FILE } from '../promotion/index.js';
import { snapshotCopies, SQLITE_SIDE_SUFFIXES } from '../state/index.js';
import { buildStagedTree, runStagedTests } from './build.js';
import { acquireLock, releaseOnSignals, type LockHandle } from './lock.js';
import { FINAL_LINES, upgradeExitCode, type UpgradeOptions } from './options.js';
import { runPreflight } from './preflight.js';
import { checkSchemaCompat } from './schema-compat.js';
import { stageGitRef, stageWorkspace, type StageResult } from './stage.js';
import { StepRecorder, type StepName, type StepOutcome, type StepRecord } from './steps.js';

/** Turns a built stage into something `runtime.startLane` can run (an image tag, or the tree itself). */
export interface LaneImageBuilder {
  /**
   * `sourceHash` names the staged sources: an image already built from the same sources is
   * reused (re-tagged), so an unchanged baseline costs nothing on the next run.
   */
  build(stageDir: string, tag: string, onProgress: (message: string) => void, sourceHash?: string): Promise<string>;
  /** Is `ref` already runnable (an image the engine has, a built tree)? */
  exists(ref: string): Promise<boolean>;
}

export interface UpgradeContext {
  /** Where tmp/ (stages, caches) and experiments/ live. */
  projectRoot: string;
  /** The live state directory (state/): snapshotted, never written except analytics/. */
  stateRoot: string;
  runtime: LaneRuntime;
  images: LaneImageBuilder;
  logger?: Logger;
  clock?: Clock;
  /** Progress: each step as it starts and ends, plus free-form messages. */
  onEvent?: (event: UpgradeEvent) => void;
  id?: string;
  /**
   * Ctrl-C: the run stops at the next step boundary (or the shadow suite's next call) and cleans
   * up as after any failure: lanes removed, stage deleted, lock released, no summary written.
   */
  signal?: AbortSignal;
  /**
   * Called once a run completed (passed or warnings), under the run's lock: prune staged
   * images/trees and dead caches, never `protect` (this run's images). A throw is a warning.
   */
  pruneStaged?: (protect: string[], say: (message: string) => void) => Promise<StagedPruneSummary>;
}

/** What the end-of-run prune did (`result.prune`). */
export interface StagedPruneSummary {
  removed: string[];
  kept: number;
  skipped: number;
  bytesFreed: number;
  warning?: string;
}

export type UpgradeEvent =
  | { type: 'step-start'; name: StepName }
  | { type: 'step-end'; step: StepRecord }
  | { type: 'message'; name: StepName; message: string };

export interface UpgradeResult {
  id: string;
  outcome: 'passed' | 'warnings' | 'failed';
  exitCode: 0 | 1 | 2;
  finalLine: string | undefined;
  artifactsDir: string;
  steps: StepRecord[];
  shadow?: { reported: number; cancelled: number; shadowJson: string; reportHtml: string };
  candidateImage?: string;
  baselineImage?: string;
  schemaCompat?: { safe: boolean; reason?: string };
  testsSkipped: boolean;
  error?: Record<string, unknown>;
  prune?: StagedPruneSummary;
}

function interrupted(step: StepName, cause?: unknown): WvoError {
  return new WvoError('WVO_INTERRUPTED', `interrupted during ${step}`, {
    subject: step,
    hint: 'nothing was promoted; shadow lanes, the stage and the lock are cleaned up',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Not the worker's state, so never in a lane's copy: the lock; analytics/ (summaries such as
 * upgrade_shadow.json, which a shadow lane would otherwise report back as its own); runtime/
 * (local-runtime lane records); and the controller's own database with its side files.
 */
export const SNAPSHOT_EXCLUDE = [
  'upgrade.lock',
  'analytics',
  'runtime',
  CONTROLLER_DB_FILE,
  ...SQLITE_SIDE_SUFFIXES.map((suffix) => `${CONTROLLER_DB_FILE}${suffix}`),
] as const;

const SHADOW_ROLES = {
  baseline: 'shadow-baseline',
  replica: 'shadow-replica',
  candidate: 'shadow-candidate',
} as const satisfies Record<string, LaneRole>;

/**
 * `wvo upgrade` (DESIGN §4): preflight → lock → stage → build → test → snapshot → shadow →
 * schema-compat → summary. Every step is recorded in steps.json as it ends; a hard failure
 * records `failed`, cleans up (lanes, stage, lock) and leaves upgrade_shadow.json untouched.
 */
export async function runUpgrade(options: UpgradeOptions, context: UpgradeContext): Promise<UpgradeResult> {
  const clock = context.clock ?? systemClock;
  const logger = context.logger ?? silentLogger();
  const id = context.id ?? newRunId(new Date(clock.now()));
  const projectRoot = resolve(context.projectRoot);
  const stateRoot = resolve(context.stateRoot);
  const artifactsDir = join(projectRoot, 'experiments', 'mcp', 'upgrade', id);
  const tmpRoot = join(projectRoot, 'tmp');
  const stageRoot = join(tmpRoot, `wv-upgrade-${id}`);
  const recorder = new StepRecorder(id, join(artifactsDir, 'steps.json'), clock);
  const emit = context.onEvent ?? (() => undefined);
  const startedLanes: string[] = [];
  let lock: LockHandle | undefined;
  let unhookSignals: (() => void) | undefined;

  const result: UpgradeResult = {
    id,
    outcome: 'failed',
    exitCode: 1,
    finalLine: undefined,
    artifactsDir,
    steps: recorder.steps,
    testsSkipped: options.skipTests,
  };

  /** Run one step: time it, record its status and detail, and record `failed` when it throws. */
  async function step(name: StepName, body: (say: (message: string) => void) => Promise<StepOutcome>): Promise<void> {
    emit({ type: 'step-start', name });
    const started = clock.now();
    const startedAt = new Date(started).toISOString();
    const say = (message: string) => emit({ type: 'message', name, message });
    try {
      if (context.signal?.aborted) throw interrupted(name);
      const outcome = await body(say);
      const record: StepRecord = {
        name,
        status: outcome.status ?? 'ok',
        started_at: startedAt,
        duration_ms: clock.now() - started,
        detail: outcome.detail ?? {},
      };
      recorder.record(record);
      emit({ type: 'step-end', step: record });
    } catch (caught) {
      // Whatever an interrupted step threw (an aborted MCP call, say), the cause is the Ctrl-C.
      const error = context.signal?.aborted && !(isWvoError(caught) && caught.code === 'WVO_INTERRUPTED') ? interrupted(name, caught) : caught;
      const record: StepRecord = {
        name,
        status: 'failed',
        started_at: startedAt,
        duration_ms: clock.now() - started,
        detail: { error: toErrorJson(error) },
      };
      recorder.record(record);
      emit({ type: 'step-end', step: record });
      throw error;
    }
  }

  async function startShadowLane(name: string, image: string, stateDir: string, role: LaneRole, dryRun: boolean): Promise<LaneInfo> {
    startedLanes.push(name);
    return context.runtime.startLane(
      { name, image, stateDir, dryRun, role, deploymentId: id },
      { readyTimeoutMs: options.readyTimeoutMs },
    );
  }

  async function removeLanes(names: string[]): Promise<void> {
    await Promise.all(
      names.map((name) =>
        context.runtime.removeLane(name, { timeoutMs: 5_000 }).catch((error: unknown) => {
          logger.warn({ lane: name, err: error }, 'could not remove a shadow lane');
        }),
      ),
    );
    for (const name of names) startedLanes.splice(startedLanes.indexOf(name), 1);
  }

  const laneName = (role: string) => `up-${id}-${role}`;

  try {
    let suite: Suite = defaultSuite();
    let suiteSource = 'default suite';
    await step('preflight', async () => {
      if (options.suite) {
        suiteSource = options.suite;
        suite = await loadSuite(options.suite);
      }
      mkdirSync(tmpRoot, { recursive: true });
      const report = await runPreflight({
        workspace: options.workspace,
        allowDirty: options.allowDirty,
        stageRoot: tmpRoot,
        minFreeBytes: options.minFreeMb * 1024 * 1024,
      });
      const lanes = await context.runtime.listLanes();
      return {
        detail: {
          workspace: options.workspace,
          git: report.git,
          head: report.head,
          dirty_files: report.dirtyFiles.length,
          sqlite: report.sqlite,
          free_mb: Math.round(report.freeBytes / 1024 / 1024),
          runtime: context.runtime.kind,
          lanes_running: lanes.length,
          suite: suiteSource,
          suite_calls: suite.calls.length,
        },
      };
    });

    await step('lock', async () => {
      mkdirSync(stateRoot, { recursive: true });
      lock = acquireLock(stateRoot, { id, clock, host: hostname() });
      unhookSignals = releaseOnSignals(lock);
      return { detail: { lock: relative(projectRoot, join(stateRoot, 'upgrade.lock')) } };
    });

    // The baseline is what runs live now; else --baseline (image/tree or git ref); else HEAD.
    let candidateStage: StageResult | undefined;
    let baselineStage: StageResult | undefined;
    let baselineImage: string | undefined;
    let baselineSource = '';
    await step('stage', async (say) => {
      const depsCacheRoot = join(tmpRoot, 'wv-deps');
      candidateStage = await stageWorkspace({
        workspace: options.workspace,
        stageDir: join(stageRoot, 'candidate'),
        depsCacheRoot,
        logger,
      });
      say(`candidate: ${candidateStage.files} files, dependencies ${candidateStage.deps}`);
      const live = (await context.runtime.listLanes()).find((lane) => lane.role === 'live' && lane.status === 'ready');
      if (!options.baseline && live) {
        baselineImage = live.image;
        baselineSource = `live lane ${live.name}`;
      } else if (options.baseline && (await context.images.exists(options.baseline))) {
        baselineImage = options.baseline;
        baselineSource = `--baseline ${options.baseline}`;
      } else {
        const ref = options.baseline ?? 'HEAD';
        baselineStage = await stageGitRef({
          workspace: options.workspace,
          ref,
          stageDir: join(stageRoot, 'baseline'),
          depsCacheRoot,
          logger,
        });
        baselineSource = `git ${ref}`;
        say(`baseline: git ${ref}, ${baselineStage.files} files`);
      }
      return {
        detail: {
          stage: relative(projectRoot, stageRoot),
          candidate_files: candidateStage.files,
          candidate_bytes: candidateStage.bytes,
          dependencies: candidateStage.deps,
          lock_hash: candidateStage.lockHash,
          baseline: baselineSource,
        },
      };
    });

    let candidateImage = '';
    await step('build', async (say) => {
      const buildCache = join(tmpRoot, 'wv-build');
      const candidateBuild = await buildStagedTree(candidateStage!.dir, buildCache, logger);
      say(`candidate tree ${candidateBuild.dist === 'cache-hit' ? 'unchanged (cached build)' : 'built'}`);
      candidateImage = await context.images.build(candidateStage!.dir, `wvo-worker:${id}`, say, candidateBuild.sourceHash);
      let baselineBuild: string | undefined;
      if (baselineStage) {
        const built = await buildStagedTree(baselineStage.dir, buildCache, logger);
        baselineBuild = built.dist;
        baselineImage = await context.images.build(baselineStage.dir, `wvo-worker:${id}-baseline`, say, built.sourceHash);
      }
      result.candidateImage = candidateImage;
      result.baselineImage = baselineImage;
      return {
        detail: {
          candidate_image: candidateImage,
          candidate_tree: candidateBuild.dist,
          source_hash: candidateBuild.sourceHash,
          baseline_image: baselineImage,
          ...(baselineBuild ? { baseline_tree: baselineBuild } : {}),
        },
      };
    });

    await step('test', async () => {
      if (options.skipTests) return { status: 'skipped', detail: { reason: '--skip-tests (promotion will refuse this run)' } };
      const tests = await runStagedTests(candidateStage!.dir, options.testCommand);
      return { detail: { command: tests.command, summary: tests.summary } };
    });

    const snapshotRoot = join(stageRoot, 'snapshots');
    const copies = {
      baseline: join(snapshotRoot, 'baseline'),
      replica: join(snapshotRoot, 'replica'),
      candidate: join(snapshotRoot, 'candidate'),
      compat: join(snapshotRoot, 'compat'),
    };
    await step('snapshot', async () => {
      mkdirSync(stateRoot, { recursive: true });
      const snap = await snapshotCopies({
        sourceRoot: stateRoot,
        destRoots: Object.values(copies),
        logger,
        clock,
        exclude: SNAPSHOT_EXCLUDE,
      });
      const { manifest } = snap;
      return {
        detail: {
          copies: snap.copies.length,
          files: manifest.files.length,
          bytes: manifest.files.reduce((sum, f) => sum + f.size, 0),
          taken_at: manifest.taken_at,
          duration_ms: snap.duration_ms,
        },
      };
    });

    let shadow: ShadowResult | undefined;
    await step('shadow', async (say) => {
      const names = { baseline: laneName('baseline'), replica: laneName('replica'), candidate: laneName('candidate') };
      try {
        say('starting three DRY_RUN lanes (baseline, replica, candidate)');
        const [baseline, replica, candidate] = await Promise.all([
          startShadowLane(names.baseline, baselineImage!, copies.baseline, SHADOW_ROLES.baseline, true),
          startShadowLane(names.replica, baselineImage!, copies.replica, SHADOW_ROLES.replica, true),
          startShadowLane(names.candidate, candidateImage, copies.candidate, SHADOW_ROLES.candidate, true),
        ]);
        shadow = await runShadow({
          lanes: { baseline: baseline.url!, replica: replica.url!, candidate: candidate.url! },
          suite,
          suiteSource,
          clock,
          ...(context.signal ? { signal: context.signal } : {}),
          onProgress: (event) => {
            if (event.type === 'call') say(`call ${event.index + 1}/${event.total}: ${event.name}`);
          },
        });
      } finally {
        await removeLanes(Object.values(names));
      }
      const { reported, cancelled } = shadow.totals;
      return {
        status: reported > 0 ? 'warning' : 'ok',
        detail: { calls: shadow.calls.length, reported, cancelled, tools: [...new Set(shadow.diffs.filter((d) => d.reported).map((d) => d.tool))] },
      };
    });

    await step('schema-compat', async (say) => {
      const compat = await checkSchemaCompat({
        runtime: context.runtime,
        candidateImage,
        baselineImage: baselineImage!,
        stateDir: copies.compat,
        laneName,
        deploymentId: id,
        readyTimeoutMs: options.readyTimeoutMs,
        compatReadyTimeoutMs: Math.min(options.readyTimeoutMs, 15_000),
        suite,
        shadow: shadow!,
        track: (name) => startedLanes.push(name),
        untrack: (name) => startedLanes.splice(startedLanes.indexOf(name), 1),
        say,
      });
      result.schemaCompat = { safe: compat.safe, ...(compat.reason ? { reason: compat.reason } : {}) };
      return {
        status: compat.safe ? 'ok' : 'warning',
        detail: {
          rollback_safe: compat.safe,
          ...(compat.reason ? { reason: compat.reason } : {}),
          ...(compat.safe ? {} : { promote: 'refused unless --allow-contract' }),
          migrations: compat.migrations,
        },
      };
    });

    await step('summary', async () => {
      mkdirSync(artifactsDir, { recursive: true });
      const shadowJson = await writeShadowJson(artifactsDir, shadow!);
      const reportHtml = await writeReportHtml(artifactsDir, {
        result: shadow!,
        title: `wvo upgrade ${id}`,
        steps: recorder.steps.map((s) => ({ name: s.name, status: s.status, duration_ms: s.duration_ms, detail: s.detail })),
      });
      const summary = await writeUpgradeShadowSummary({
        stateRoot,
        count: shadow!.totals.reported,
        shadowJsonPath: shadowJson,
        relativeTo: projectRoot,
        recordedAt: new Date(clock.now()),
      });
      result.shadow = { reported: shadow!.totals.reported, cancelled: shadow!.totals.cancelled, shadowJson, reportHtml };
      return {
        detail: {
          shadow_json: relative(projectRoot, shadowJson),
          report_html: relative(projectRoot, reportHtml),
          upgrade_shadow: summary,
        },
      };
    });

    result.outcome = recorder.outcome();
    if (result.outcome !== 'failed' && context.pruneStaged && !context.signal?.aborted) {
      const say = (message: string) => emit({ type: 'message', name: 'summary', message: `prune: ${message}` });
      const protect = [candidateImage, baselineImage].filter((ref): ref is string => Boolean(ref));
      try {
        result.prune = await context.pruneStaged(protect, say);
        logger.info({ removed: result.prune.removed, bytes_freed: result.prune.bytesFreed }, 'pruned staged images and caches');
      } catch (error) {
        // Disk hygiene never fails an upgrade that passed.
        const message = isWvoError(error) ? `${error.code}: ${error.message}` : String((error as Error).message ?? error);
        result.prune = { removed: [], kept: 0, skipped: 0, bytesFreed: 0, warning: message };
        logger.warn({ err: error }, 'could not prune staged images');
        say(`warning: ${message}`);
      }
    }
  } catch (error) {
    result.outcome = 'failed';
    result.error = toErrorJson(error);
    if (!isWvoError(error)) logger.error({ err: error }, 'upgrade failed unexpectedly');
  } finally {
    if (startedLanes.length > 0) await removeLanes([...startedLanes]);
    if (!options.keepStage && existsSync(stageRoot)) rmSync(stageRoot, { recursive: true, force: true });
    lock?.release();
    unhookSignals?.();
    recorder.finish();
  }
  result.exitCode = upgradeExitCode(result.outcome, options.ci);
  result.finalLine = result.outcome === 'failed' ? undefined : FINAL_LINES[result.outcome];
  return result;
}
