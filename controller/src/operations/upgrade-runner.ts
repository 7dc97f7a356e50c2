import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { systemClock, type Clock } from '../../../common/src/clock.js';
import { toErrorJson } from '../../../common/src/errors.js';
import { newRunId } from '../../../common/src/ids.js';
import { silentLogger, type Logger } from '../../../common/src/logger.js';
import { inspectLock, lockHeldError, lockPath, lockStaleError } from '../harness/index.js';
import { parseUpgradeOptions, type UpgradeOptions } from '../harness/index.js';
import type { LaneImageBuilder, UpgradeContext, UpgradeResult } from '../harness/index.js';
import type { DeploymentStore } from '../promotion/index.js';
import type { ProxyAdminClient } from '../proxy/index.js';
import type { LaneRuntime } from '../runtime/index.js';
import type { ControllerMetrics } from '../telemetry/index.js';
import { unavailable } from './promotion-functions.js';
import type { EventBus } from './event-bus.js';
import { upgrade, type UpgradePlane } from './upgrade.js';

export interface UpgradeRunnerDeps {
  projectRoot: string;
  stateRoot: string;
  runtime: LaneRuntime;
  images: LaneImageBuilder;
  bus: EventBus;
  metrics?: ControllerMetrics;
  logger?: Logger;
  clock?: Clock;
  newId?: () => string;
  /** Prune unused staged images at the end of a completed run (as `wvo upgrade` does). */
  pruneStaged?: UpgradeContext['pruneStaged'];
  /** Every run is recorded here as a staged upgrade `POST /deployments/:id/promote` can name. */
  store: DeploymentStore;
  /** Names the baseline of a recorded run (the proxy's active lane) when there is one. */
  proxy?: ProxyAdminClient;
}

export interface RunningUpgrade {
  id: string;
  startedAt: string;
  options: UpgradeOptions;
}

/**
 * Paths in an API body are the server's, relative to the project root (the CLI resolves them
 * against its cwd instead). Only strings are rewritten; anything else is left for the schema.
 */
function resolveBodyPaths(input: unknown, projectRoot: string): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const body = { ...(input as Record<string, unknown>) };
  body.workspace = typeof body.workspace === 'string' ? resolve(projectRoot, body.workspace) : (body.workspace ?? projectRoot);
  if (typeof body.suite === 'string' && !isAbsolute(body.suite)) body.suite = resolve(projectRoot, body.suite);
  return body;
}

/**
 * `POST /upgrades`: validate with the CLI's schema, answer at once, run `runUpgrade` in the
 * background and publish its step events. One at a time: a second start while one runs (here,
 * or any process holding `state/upgrade.lock`) is refused with the lock error.
 */
export class UpgradeRunner {
  private running: (RunningUpgrade & { done: Promise<UpgradeResult> }) | undefined;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(private readonly deps: UpgradeRunnerDeps) {
    this.logger = deps.logger ?? silentLogger();
    this.clock = deps.clock ?? systemClock;
  }

  current(): RunningUpgrade | undefined {
    if (!this.running) return undefined;
    const { done: _done, ...view } = this.running;
    return view;
  }

  /** Throws WVO_OPTIONS_INVALID (field named), WVO_LOCK_HELD or WVO_LOCK_STALE before anything starts. */
  start(input: unknown): RunningUpgrade & { done: Promise<UpgradeResult> } {
    const options = parseUpgradeOptions(resolveBodyPaths(input ?? {}, this.deps.projectRoot), 'POST /upgrades');
    if (this.running) {
      // Our run may still be in preflight (before it takes the lock file): same error, same owner shape.
      throw lockHeldError({
        state: 'held',
        path: lockPath(this.deps.stateRoot),
        owner: { pid: process.pid, host: hostname(), id: this.running.id, started_at: this.running.startedAt },
      });
    }
    const lock = inspectLock(this.deps.stateRoot, { clock: this.clock });
    if (lock.state === 'held') throw lockHeldError(lock);
    if (lock.state === 'stale') throw lockStaleError(lock);

    const id = this.deps.newId?.() ?? newRunId(new Date(this.clock.now()));
    const startedAt = new Date(this.clock.now()).toISOString();
    const { bus, metrics } = this.deps;
    bus.publish({ type: 'upgrade-started', id, at: startedAt });
    metrics?.upgradeRunning.set(1);
    let ran: UpgradeResult | undefined;
    const done = (async () => {
      try {
        const { result } = await upgrade(this.plane(), {
          options,
          id,
          logger: this.logger,
          onEvent: (event) => bus.publish({ type: 'upgrade-step', id, event }),
          ...(this.deps.pruneStaged ? { pruneStaged: this.deps.pruneStaged } : {}),
          onRun: (result) => {
            ran = result;
            metrics?.upgrades.inc({ outcome: result.outcome });
            this.logger.info({ upgrade: result.id, outcome: result.outcome }, 'upgrade finished');
          },
        });
        return this.finished(result);
      } catch (error) {
        if (ran) {
          this.logger.error({ err: error, upgrade: ran.id }, 'upgrade finished, but recording it in controller.db failed');
          return this.finished(ran);
        }
        // runUpgrade records its own failures; reaching here is a bug.
        this.logger.error({ err: error, upgrade: id }, 'upgrade crashed');
        bus.publish({ type: 'upgrade-finished', id, outcome: 'failed', exit_code: 1, error: toErrorJson(error) });
        metrics?.upgrades.inc({ outcome: 'failed' });
        throw error;
      } finally {
        this.running = undefined;
        metrics?.upgradeRunning.set(0);
      }
    })();
    done.catch(() => undefined);
    this.running = { id, startedAt, options, done };
    return this.running;
  }

  /** The controller's plane: its own store and proxy client; an API upgrade never promotes. */
  private plane(): UpgradePlane {
    const { projectRoot, stateRoot, runtime, images, store, proxy } = this.deps;
    return {
      projectRoot,
      stateRoot,
      runtime,
      images,
      clock: this.clock,
      store,
      optionalProxy: proxy,
      get operations(): never {
        throw unavailable();
      },
    };
  }

  private finished(result: UpgradeResult): UpgradeResult {
    this.deps.bus.publish({
      type: 'upgrade-finished',
      id: result.id,
      outcome: result.outcome,
      exit_code: result.exitCode,
      ...(result.error ? { error: result.error } : {}),
    });
    return result;
  }

  /** Resolves when no upgrade is running (server close waits: runUpgrade removes its own lanes). */
  async idle(): Promise<void> {
    await this.running?.done.catch(() => undefined);
  }
}
