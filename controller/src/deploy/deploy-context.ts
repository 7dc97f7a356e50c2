import { join } from 'node:path';
import { systemClock, type Clock } from '../../../common/src/clock.js';
import { silentLogger, type Logger } from '../../../common/src/logger.js';
import type { WvoConfig } from '../config/index.js';
import { DeploymentStore } from '../promotion/index.js';
import type { ProxyAdminClient } from '../proxy/index.js';
import type { LaneRuntime } from '../runtime/index.js';
import { DeployOperations } from './deploy-operations.js';
import { LiveEffectRunner } from './live-effect-runner.js';
import { connectProxyAdmin } from './proxy-connection.js';

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
  });
  const operations = new DeployOperations({
    store: input.store,
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

export interface DeployContext {
  store: DeploymentStore;
  proxy: ProxyAdminClient;
  runner: LiveEffectRunner;
  operations: DeployOperations;
  close(): Promise<void>;
}

/** Wire the executor from config for one command: controller.db, the proxy admin client, the runner. */
export async function openDeploy(
  input: Omit<DeployWiring, 'proxy' | 'store'> & { proxy?: ProxyAdminClient; store?: DeploymentStore },
): Promise<DeployContext> {
  const proxy = input.proxy ?? (await connectProxyAdmin(input.config, input.projectRoot, input.env));
  const store = input.store ?? DeploymentStore.open(input.stateRoot);
  const { runner, operations } = wireDeploy({ ...input, proxy, store });
  return {
    store,
    proxy,
    runner,
    operations,
    async close() {
      if (!input.proxy) await proxy.close();
      if (!input.store) store.close();
    },
  };
}
