import { join } from 'node:path';
import { systemClock, type Clock } from '../../../common/src/clock.js';
import { silentLogger, type Logger } from '../../../common/src/logger.js';
import type { WvoConfig } from '../config/index.js';
import { upgradePruner } from '../harness/index.js';
import type { LaneImageBuilder, UpgradeContext } from '../harness/index.js';
import { DeploymentStore } from '../promotion/index.js';
import type { ProxyAdminClient } from '../proxy/index.js';
import type { LaneRuntime } from '../runtime/index.js';
import { DeployOperations } from './deploy-operations.js';
import { LiveEffectRunner } from './live-effect-runner.js';
import { connectProxyAdmin } from './proxy-connection.js';
import { resolveUpgradeApp } from './upgrade-app.js';
import { commonErrors } from '../../../common/src/common-errors.js';
import { SoakStore } from '../soak/index.js';

export const WORKER_TOKEN_ENV = 'WVO_ADMIN_TOKEN';

export interface DeployWiring {
  config: WvoConfig;
  projectRoot: string;
  stateRoot: string;
  runtime: LaneRuntime;
  proxy: ProxyAdminClient;
  store: DeploymentStore;
  logger?: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** The executor over an open store and proxy client (sync: the API server calls it with its own store). */
export function wireDeploy(input: DeployWiring): { runner: LiveEffectRunner; operations: DeployOperations } {
  const env = input.env ?? process.env;
  const clock = input.clock ?? systemClock;
  const logger = input.logger ?? silentLogger();
  const workerToken = env[WORKER_TOKEN_ENV]?.trim() || undefined;
  const runner = new LiveEffectRunner({
    runtime: input.runtime,
    proxy: input.proxy,
    stateRoot: input.stateRoot,
    experimentsRoot: join(input.projectRoot, 'experiments'),
    clock,
    logger,
    ...(workerToken ? { workerToken } : {}),
    readyTimeoutMs: input.config.lanes.readyTimeoutMs,
    stopTimeoutMs: input.config.lanes.stopTimeoutMs,
    apps: (name) => resolveUpgradeApp(input.config, input.projectRoot, name).lane,
  });
  let soaks: SoakStore | undefined;
  const operations = new DeployOperations({
    apps: (name) => resolveUpgradeApp(input.config, input.projectRoot, name).lane,
    store: input.store,
    soaks: () => (soaks ??= SoakStore.open(input.stateRoot)),
    runner,
    proxy: input.proxy,
    runtime: input.runtime,
    clock,
    logger,
    ...(workerToken ? { workerToken } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
  });
  return { runner, operations };
}

export interface ControlPlaneInput extends Omit<DeployWiring, 'proxy' | 'store'> {
  /**
   * An open proxy admin client (left open), or one to connect from config: `required` (the
   * default: promotion switches lanes through it, so a missing token is refused at once) or
   * `optional` (used when a token is configured, e.g. to name the baseline of a recorded run).
   */
  proxy?: ProxyAdminClient | 'required' | 'optional';
  /** An open controller.db (left open); otherwise it is opened on first use. */
  store?: DeploymentStore;
  /** What builds lane images (needed by `upgrade`). */
  images?: LaneImageBuilder;
}

/**
 * One command's control plane: at most one proxy admin client and one controller.db connection,
 * and the promotion executor wired over them once. Every operation a command runs (upgrade,
 * record, promote, rollback, resume) goes through the same plane, so `wvo upgrade --promote`
 * connects to the proxy once and opens the store once. The store is opened when first used
 * (a harness run that crashes before its record leaves no controller.db behind).
 */
export class ControlPlane {
  private openedStore: DeploymentStore | undefined;
  private wired: ReturnType<typeof wireDeploy> | undefined;

  private constructor(
    private readonly input: ControlPlaneInput,
    private readonly client: ProxyAdminClient | undefined,
    /** Why there is no client (`optional` without a token): thrown when promotion needs one. */
    private readonly proxyError: unknown,
  ) {}

  static async open(input: ControlPlaneInput): Promise<ControlPlane> {
    const mode = input.proxy ?? 'required';
    if (typeof mode !== 'string') return new ControlPlane(input, mode, undefined);
    try {
      return new ControlPlane(input, await connectProxyAdmin(input.config, input.projectRoot, input.env), undefined);
    } catch (error) {
      if (mode === 'required') throw error;
      return new ControlPlane(input, undefined, error);
    }
  }

  get config(): WvoConfig {
    return this.input.config;
  }
  get projectRoot(): string {
    return this.input.projectRoot;
  }
  get stateRoot(): string {
    return this.input.stateRoot;
  }
  get runtime(): LaneRuntime {
    return this.input.runtime;
  }
  get clock(): Clock {
    return this.input.clock ?? systemClock;
  }
  get images(): LaneImageBuilder {
    if (!this.input.images) throw commonErrors.create('WVO_INTERNAL', 'this control plane was opened without an image builder (`images`)', { subject: 'images' });
    return this.input.images;
  }

  /** The proxy admin client; throws WVO_DEPLOY_PROXY_TOKEN_MISSING when the plane has none. */
  get proxy(): ProxyAdminClient {
    if (!this.client) throw this.proxyError;
    return this.client;
  }

  /** The proxy admin client when one is configured. */
  get optionalProxy(): ProxyAdminClient | undefined {
    return this.client;
  }

  get store(): DeploymentStore {
    this.openedStore ??= this.input.store ?? DeploymentStore.open(this.input.stateRoot);
    return this.openedStore;
  }

  get runner(): LiveEffectRunner {
    return this.deploy().runner;
  }

  get operations(): DeployOperations {
    return this.deploy().operations;
  }

  /** The end-of-run prune of unused staged images (`wvo upgrade`'s). */
  stagedPruner(workspace?: string): NonNullable<UpgradeContext['pruneStaged']> {
    const { projectRoot, stateRoot, runtime, config } = this.input;
    return upgradePruner({ projectRoot, stateRoot, runtime, config, ...(workspace ? { workspace } : {}) });
  }

  private deploy(): ReturnType<typeof wireDeploy> {
    this.wired ??= wireDeploy({ ...this.input, proxy: this.proxy, store: this.store });
    return this.wired;
  }

  /** Close what the plane opened (not a client or store it was given, not the runtime). */
  async close(): Promise<void> {
    if (typeof this.input.proxy === 'string' || this.input.proxy === undefined) await this.client?.close();
    if (!this.input.store) this.openedStore?.close();
  }
}

/** What a promote/rollback/resume command works with. */
export type DeployContext = ControlPlane;

/** Wire the executor from config for one command: the proxy admin client (required), controller.db, the runner. */
export function openDeploy(input: ControlPlaneInput): Promise<ControlPlane> {
  return ControlPlane.open(input);
}
