import { join, resolve } from 'node:path';
import { createLogger, type Logger } from '../../../common/src/logger.js';
import { loadConfig, type LoadedConfig } from '../config/index.js';
import { dockerLaneImages, localLaneImages } from '../harness/lane-images.js';
import type { LaneImageBuilder } from '../harness/upgrade.js';
import { DockerRuntime } from '../runtime/docker/docker-runtime.js';
import { LocalRuntime } from '../runtime/local/local-runtime.js';
import type { LaneRuntime, RuntimeKind } from '../runtime/lane-runtime.js';

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

/**
 * Load config and open the runtime it names. `auto` picks docker when the default host's engine
 * answers a ping, else local processes (the embedded default on machines without Docker).
 */
export async function openCliContext(flags: RuntimeFlags, name = 'wvo'): Promise<CliContext> {
  const loaded = loadConfig(flags.config ? { file: flags.config } : {});
  const { config } = loaded;
  const logger = createLogger(name);
  const projectRoot = loaded.baseDir;
  const stateRoot = resolve(projectRoot, config.stateRoot);
  const wanted = flags.runtime ?? config.runtime;

  const docker = () =>
    new DockerRuntime({
      project: config.projectName,
      ...(config.network ? { network: config.network } : {}),
      hosts: config.hosts,
      defaultHost: config.defaultHost,
      readyTimeoutMs: config.lanes.readyTimeoutMs,
      stopTimeoutMs: config.lanes.stopTimeoutMs,
      resources: { memoryMb: config.lanes.memoryMb, cpus: config.lanes.cpus, pidsLimit: config.lanes.pidsLimit },
      portRange: config.lanes.portRange,
      logger,
      baseDir: projectRoot,
    });
  const local = () =>
    new LocalRuntime({
      runDir: join(stateRoot, 'runtime', 'local'),
      trees: config.local.trees,
      readyTimeoutMs: config.lanes.readyTimeoutMs,
      stopTimeoutMs: config.lanes.stopTimeoutMs,
      logger,
    });

  if (wanted === 'local') {
    return { loaded, stateRoot, projectRoot, runtime: local(), images: localLaneImages(), chosen: 'local', reason: 'runtime: local', logger };
  }
  const runtime = docker();
  if (wanted === 'docker') {
    await runtime.ping();
    return { loaded, stateRoot, projectRoot, runtime, images: dockerLaneImages(runtime, config), chosen: 'docker', reason: 'runtime: docker', logger };
  }
  try {
    const host = await runtime.ping();
    return {
      loaded, stateRoot, projectRoot, runtime, images: dockerLaneImages(runtime, config), chosen: 'docker',
      reason: `runtime auto: the Docker engine at ${host.endpoint.url} answered`, logger,
    };
  } catch (error) {
    await runtime.close();
    return {
      loaded, stateRoot, projectRoot, runtime: local(), images: localLaneImages(), chosen: 'local',
      reason: `runtime auto: no Docker engine answered (${(error as Error).message.split('\n')[0]}); using local processes`, logger,
    };
  }
}
