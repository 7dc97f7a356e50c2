import { resolve } from 'node:path';
import { createLogger, type Logger } from '../../../common/src/logger.js';
import { loadConfig, type LoadedConfig, type WvoConfig } from '../config/index.js';
import { assertRuntimeKind, createRuntime, DockerRuntime, SwarmRuntime, type ImageStore, type LaneRuntime, type RuntimeChoice, type RuntimeKind } from '../runtime/index.js';

/** Options every command that touches lanes accepts. */
export interface RuntimeFlags {
  config?: string;
  runtime?: RuntimeChoice;
}

export interface CliContext {
  loaded: LoadedConfig;
  /** Absolute state root (config `stateRoot`, relative to the config's directory). */
  stateRoot: string;
  projectRoot: string;
  runtime: LaneRuntime;
  /** What the runtime's lanes run: build from a stage, list, remove, transfer (runtime/image-store.ts). */
  images: ImageStore;
  chosen: RuntimeKind;
  /** Why this runtime: `auto` says which engine it found or did not find. */
  reason: string;
  logger: Logger;
}

/** Load config and open the runtime it names (a `--runtime` flag wins over the config). */
export async function openCliContext(
  flags: RuntimeFlags,
  name = 'wvo',
  /** Settings that win over the file (the demo runs in a project of its own). */
  overrides: Partial<Pick<WvoConfig, 'projectName' | 'stateRoot'>> = {},
): Promise<CliContext> {
  if (flags.runtime) assertRuntimeKind(flags.runtime);
  const file = loadConfig(flags.config ? { file: flags.config } : {});
  const loaded = { ...file, config: { ...file.config, ...overrides, ...(flags.runtime ? { runtime: flags.runtime } : {}) } };
  const { config } = loaded;
  const logger = createLogger(name);
  const projectRoot = loaded.baseDir;
  const selected = await createRuntime(config, { baseDir: projectRoot, logger });
  if (selected.kind === 'docker' && flags.runtime === 'docker') await (selected.runtime as DockerRuntime).ping();
  // Named on the command line: a manager that is not one, or a label on no node, fails here, before any work.
  if (selected.runtime instanceof SwarmRuntime && flags.runtime === 'swarm') await selected.runtime.checkSwarm();
  return {
    loaded,
    stateRoot: resolve(projectRoot, config.stateRoot),
    projectRoot,
    runtime: selected.runtime,
    images: selected.images,
    chosen: selected.kind,
    reason: selected.reason,
    logger,
  };
}
