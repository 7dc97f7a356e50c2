import type { Clock } from '../../../common/src/clock.js';
import type { Logger } from '../../../common/src/logger.js';
import type { AppConfig } from '../config/index.js';
import type { LaneApp, LaneRuntime } from '../runtime/index.js';
import type { SurfaceReport } from '../shadow/index.js';
import type { StepName, StepRecord } from './steps.js';

/**
 * What `runUpgrade` is given and what it returns. Declared apart from upgrade.ts so the steps
 * (steps/) can name these types without importing the function that runs them.
 */

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

/** The app a run upgrades, resolved from config by the caller (default: our worker). */
export interface UpgradeApp {
  name: string;
  config: AppConfig;
  /** How the runtime runs it. */
  lane: LaneApp;
}

export interface UpgradeContext {
  /** Default: our worker (`worker`). */
  app?: UpgradeApp;
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
  shadow?: {
    /** upgrade_shadow.json `count`: reported answer groups + reported state differences. */
    count: number;
    answerGroups: number;
    stateDifferences: number;
    /** Raw answer differences reported / cancelled as noise (before grouping). */
    reported: number;
    cancelled: number;
    shadowJson: string;
    reportHtml: string;
  };
  candidateImage?: string;
  baselineImage?: string;
  schemaCompat?: { safe: boolean; reason?: string };
  /** The tool-surface gate's classified changes (a breaking one blocks --promote unless --allow-breaking). */
  toolSurface?: Pick<SurfaceReport, 'breaking' | 'additive' | 'informational'>;
  /** The app the run upgraded. */
  app?: string;
  /** `image`: image to image (nothing built or tested here). */
  source?: 'workspace' | 'image';
  testsSkipped: boolean;
  error?: Record<string, unknown>;
  prune?: StagedPruneSummary;
}
