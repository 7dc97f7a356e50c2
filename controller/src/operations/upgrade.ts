import type { Clock } from '../../../common/src/clock.js';
import type { Logger } from '../../../common/src/logger.js';
import type { UpgradeOptions } from '../harness/index.js';
import { runUpgrade, type LaneImageBuilder, type UpgradeApp, type UpgradeContext, type UpgradeEvent, type UpgradeResult } from '../harness/index.js';
import { operationsErrors } from './errors.js';
import type { DeploymentRecord, DeploymentStore, UpgradeSummary } from '../promotion/index.js';
import type { ProxyAdminClient } from '../proxy/index.js';
import type { LaneRuntime } from '../runtime/index.js';
import type { DeployOperations } from './deploy-operations.js';
import { recordHarnessRun } from './harness-record.js';

/** What `upgrade` works with: a command's `ControlPlane`, or the controller's own (same shape). */
export interface UpgradePlane {
  readonly projectRoot: string;
  readonly stateRoot: string;
  readonly runtime: LaneRuntime;
  readonly images: LaneImageBuilder;
  readonly clock: Clock;
  /** Where the run is recorded (controller.db). */
  readonly store: DeploymentStore;
  /** Names the baseline of the recorded run (its active lane) when there is one. */
  readonly optionalProxy: ProxyAdminClient | undefined;
  /** The promotion executor: read only when the request asks to promote. */
  readonly operations: DeployOperations;
}

export interface UpgradeRequest {
  /** Parsed harness options (`parseUpgradeOptions`). */
  options: UpgradeOptions;
  /** Promotion options (checked by the caller before the long run): promote when the run did not fail. */
  promotion?: Record<string, unknown>;
  id?: string;
  logger?: Logger;
  signal?: AbortSignal;
  onEvent?: (event: UpgradeEvent) => void;
  pruneStaged?: UpgradeContext['pruneStaged'];
  /** The harness run ended, before it is recorded (e.g. end a progress display, count it). */
  onRun?: (result: UpgradeResult) => void | Promise<void>;
  /** The app upgraded (`resolveUpgradeApp`); default our worker. */
  app?: UpgradeApp;
  /** Just before a passed run is promoted. */
  onPromote?: (result: UpgradeResult) => void;
}

export interface UpgradeOutcome {
  result: UpgradeResult;
  /** The run as recorded in controller.db (`wvo promote <id>` finds it). */
  summary: UpgradeSummary;
  /** Promoted or rolled back, when the request asked to promote and the run did not fail. */
  deployment?: DeploymentRecord;
}

/**
 * The one composition around the harness (`wvo upgrade [--promote]`, `POST /upgrades`, the demo):
 * run → record in controller.db (every run, failed ones too) → maybe promote.
 */
export async function upgrade(plane: UpgradePlane, request: UpgradeRequest): Promise<UpgradeOutcome> {
  const options = await withServingBaseline(plane, request.options);
  const result = await runUpgrade(options, {
    projectRoot: plane.projectRoot,
    stateRoot: plane.stateRoot,
    runtime: plane.runtime,
    images: plane.images,
    clock: plane.clock,
    ...(request.logger ? { logger: request.logger } : {}),
    ...(request.id ? { id: request.id } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
    ...(request.pruneStaged ? { pruneStaged: request.pruneStaged } : {}),
    ...(request.onEvent ? { onEvent: request.onEvent } : {}),
    ...(request.app ? { app: request.app } : {}),
  });
  await request.onRun?.(result);
  const proxy = plane.optionalProxy;
  const summary = await recordHarnessRun({ store: plane.store, result, runtime: plane.runtime, ...(proxy ? { proxy } : {}), clock: plane.clock });
  if (!request.promotion || result.outcome === 'failed') return { result, summary };
  assertSurfaceGate(result, options.allowBreaking);
  request.onPromote?.(result);
  // The plan refuses skipped tests and a schema-compat warning (unless allowContract), coded.
  const deployment = await plane.operations.promote({ ...request.promotion, upgradeId: result.id });
  return { result, summary, deployment };
}

/** The tool-surface gate: a breaking change blocks --promote unless --allow-breaking. */
export function assertSurfaceGate(result: Pick<UpgradeResult, 'id' | 'toolSurface'>, allowBreaking: boolean): void {
  const breaking = result.toolSurface?.breaking ?? 0;
  if (breaking === 0 || allowBreaking) return;
  throw operationsErrors.create('WVO_SURFACE_BREAKING', `upgrade ${result.id}: the candidate makes ${breaking} breaking change(s) to the tool surface; not promoted`, {
    subject: '--allow-breaking',
    hint: 'read the Tool surface section of report.html (or steps.json tool-surface); promote anyway with --allow-breaking',
    details: { ...result.toolSurface },
  });
}

/**
 * Image to image without --baseline: the baseline is what serves now (the proxy's active lane's
 * image), as for our worker; the harness falls back to the app's configured image.
 */
async function withServingBaseline(plane: UpgradePlane, options: UpgradeOptions): Promise<UpgradeOptions> {
  if (!options.candidate || options.baseline || !plane.optionalProxy) return options;
  const active = await plane.optionalProxy.lanes().then((view) => view.active, () => null);
  const lane = active ? await plane.runtime.getLane(active).catch(() => undefined) : undefined;
  return lane && (lane.app ?? 'worker') === options.app ? { ...options, baseline: lane.image } : options;
}
