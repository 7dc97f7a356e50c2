import { join, resolve } from 'node:path';
import { createLogger, type Logger } from '../../../common/src/logger.js';
import { loadConfig, type LoadedConfig, type WvoConfig } from '../config/index.js';
import { dockerLaneImages, localLaneImages } from '../harness/lane-images.js';
import type { LaneImageBuilder } from '../harness/upgrade.js';
import { createRuntime, DockerRuntime, type LaneRuntime, type RuntimeKind } from '../runtime/index.js';

/** Options every command that touches lanes accepts. */
export interface RuntimeFlags {
  config?: string;
  runtime?: 'auto' | 'docker' | 'local';
}

export interface CliContext {
  loaded: LoadedConfig;
  /** Absolute state root (config `stateRoot`, relative to the config's directory). */
  stateRoot: string;
  projectRoot: string;
  runtime: LaneRuntime;
  images: LaneImageBuilder;
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
  const file = loadConfig(flags.config ? { file: flags.config } : {});
  const loaded = { ...file, config: { ...file.config, ...overrides, ...(flags.runtime ? { runtime: flags.runtime } : {}) } };
  const { config } = loaded;
  const logger = createLogger(name);
  const projectRoot = loaded.baseDir;
  const selected = await createRuntime(config, { baseDir: projectRoot, logger });
  if (selected.kind === 'docker' && flags.runtime === 'docker') await (selected.runtime as DockerRuntime).ping();
  const images =
    selected.runtime instanceof DockerRuntime ? dockerLaneImages(selected.runtime, config) : localLaneImages(join(projectRoot, 'tmp', 'wv-images'));
  return {
    loaded,
    stateRoot: resolve(projectRoot, config.stateRoot),
    projectRoot,
    runtime: selected.runtime,
    images,
    chosen: selected.kind,
    reason: selected.reason,
    logger,
  };
}
