import { systemClock, type Clock } from '../../../common/src/clock.js';
import { silentLogger, type Logger } from '../../../common/src/logger.js';
import type { WvoConfig } from '../config/index.js';
import { DeploymentStore } from '../promotion/index.js';
import type { LaneRuntime } from '../runtime/index.js';
import { SoakOperations, SoakStore, type SoakRecord } from '../soak/index.js';
import { WORKER_TOKEN_ENV } from './control-plane.js';

export interface SoakWiringInput {
  /** For `lanes.readyTimeoutMs` (default 30 s). */
  readonly config?: WvoConfig;
  readonly projectRoot: string;
  readonly stateRoot: string;
  readonly runtime: LaneRuntime;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly env?: NodeJS.ProcessEnv;
  readonly onProgress?: (record: SoakRecord, what: 'progress' | 'checkpoint' | 'restart' | 'end') => void;
  /** Each entry once both lanes answered: its lag and replay time (the demo's lag p99). */
  readonly onReplayed?: (seq: number, lagMs: number, replayMs: number) => void;
}

/** The soak operations over controller.db (soaks and staged upgrades) and the runtime: the CLI, the API and the demo use this. */
export function openSoak(input: SoakWiringInput): { operations: SoakOperations; store: SoakStore; close(): void } {
  const store = SoakStore.open(input.stateRoot);
  let deployments: DeploymentStore | undefined;
  const token = (input.env ?? process.env)[WORKER_TOKEN_ENV]?.trim() || undefined;
  const operations = new SoakOperations({
    store,
    runtime: input.runtime,
    clock: input.clock ?? systemClock,
    logger: input.logger ?? silentLogger(),
    ...(token ? { token } : {}),
    readyTimeoutMs: input.config?.lanes.readyTimeoutMs ?? 30_000,
    projectRoot: input.projectRoot,
    stateRoot: input.stateRoot,
    resolveUpgrade: (id) => (deployments ??= DeploymentStore.open(input.stateRoot)).getUpgrade(id),
    ...(input.onProgress ? { onProgress: input.onProgress } : {}),
    ...(input.onReplayed ? { onReplayed: input.onReplayed } : {}),
  });
  return {
    operations,
    store,
    close() {
      store.close();
      deployments?.close();
    },
  };
}
