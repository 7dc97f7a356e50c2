import { resolve } from 'node:path';
import { INSTALL_ROOT } from './install-root.js';
import type { Logger } from '../../../common/src/logger.js';
import { RUNTIME_CHOICES, type WvoConfig } from '../config/index.js';

export type RuntimeChoice = (typeof RUNTIME_CHOICES)[number];
import { DockerRuntime } from './docker/docker-runtime.js';
import { LOCAL_HOST, connectHosts, pingHost } from './docker/engine.js';
import { RuntimeError } from './errors.js';
import { DockerImageStore } from './docker/docker-image-store.js';
import type { ImageStore } from './image-store.js';
import type { LaneRuntime } from './lane-runtime.js';
import { localImageStore } from './local/local-image-store.js';
import { LocalRuntime } from './local/local-runtime.js';
import { SwarmRuntime } from './swarm/swarm-runtime.js';

export { INSTALL_ROOT };

export interface SelectedRuntime {
  runtime: LaneRuntime;
  /** Where this runtime's lanes get what they run (images on engines, trees under tmp/wv-images). */
  images: ImageStore;
  kind: LaneRuntime['kind'];
  /** Why this runtime: said out loud when `runtime` is `auto`. */
  reason: string;
}

export interface CreateRuntimeOptions {
  /** Directory relative config paths resolve against. */
  baseDir?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export function dockerRuntimeFrom(config: WvoConfig, options: CreateRuntimeOptions = {}): DockerRuntime {
  return new DockerRuntime({
    project: config.projectName,
    ...(config.network ? { network: config.network } : {}),
    hosts: config.hosts,
    defaultHost: config.defaultHost,
    readyTimeoutMs: config.lanes.readyTimeoutMs,
    stopTimeoutMs: config.lanes.stopTimeoutMs,
    resources: { memoryMb: config.lanes.memoryMb, cpus: config.lanes.cpus, pidsLimit: config.lanes.pidsLimit },
    portRange: config.lanes.portRange,
    laneAddress: config.lanes.address,
    ...(options.env ? { env: options.env } : {}),
    ...(options.baseDir ? { baseDir: options.baseDir } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

export function localRuntimeFrom(config: WvoConfig, options: CreateRuntimeOptions = {}): LocalRuntime {
  const baseDir = options.baseDir ?? process.cwd();
  return new LocalRuntime({
    runDir: resolve(baseDir, config.stateRoot, 'runtime', 'local'),
    trees: Object.fromEntries(Object.entries(config.local.trees).map(([tag, tree]) => [tag, resolve(baseDir, tree)])),
    defaultTree: INSTALL_ROOT,
    readyTimeoutMs: config.lanes.readyTimeoutMs,
    stopTimeoutMs: config.lanes.stopTimeoutMs,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

/** runtime "swarm": the manager and nodes from config `swarm` (its schema checked the host names). */
export function swarmRuntimeFrom(config: WvoConfig, options: CreateRuntimeOptions = {}): SwarmRuntime {
  const swarm = config.swarm;
  // `--runtime swarm` over a config without a swarm section: the schema never saw it.
  if (!swarm || swarm.nodes.length === 0) {
    throw new RuntimeError('WVO_SWARM_NODE_UNKNOWN', 'runtime "swarm" needs swarm.nodes in wvo.config.json (a node label and the host of its engine each)', {
      subject: 'swarm.nodes',
      hint: 'Add "swarm": {"manager": "local", "nodes": [{"label": "a", "host": "local"}]} and label the node (docker node update --label-add wvo.node=a NODE).',
      exitCode: 2,
    });
  }
  return new SwarmRuntime({
    project: config.projectName,
    hosts: config.hosts,
    manager: swarm.manager,
    labelKey: swarm.labelKey,
    nodes: swarm.nodes,
    ...(swarm.defaultNode ? { defaultNode: swarm.defaultNode } : {}),
    readyTimeoutMs: config.lanes.readyTimeoutMs,
    stopTimeoutMs: config.lanes.stopTimeoutMs,
    resources: { memoryMb: config.lanes.memoryMb, cpus: config.lanes.cpus, pidsLimit: config.lanes.pidsLimit },
    ...(options.env ? { env: options.env } : {}),
    ...(options.baseDir ? { baseDir: options.baseDir } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

/** The image store lanes of `runtime` run from (relative local.trees resolve against `baseDir`, the project root). */
export function imageStoreFor(runtime: LaneRuntime, config: WvoConfig, options: Pick<CreateRuntimeOptions, 'baseDir'> = {}): ImageStore {
  if (runtime instanceof DockerRuntime) return new DockerImageStore(runtime, config.images);
  // Swarm lanes run images built on the local engine and loaded on their node.
  if (runtime instanceof SwarmRuntime) return new DockerImageStore(runtime.engines, config.images);
  return localImageStore(options.baseDir ?? process.cwd(), config.local.trees);
}

function selected(runtime: LaneRuntime, config: WvoConfig, options: CreateRuntimeOptions, reason: string): SelectedRuntime {
  return { runtime, images: imageStoreFor(runtime, config, options), kind: runtime.kind, reason };
}

/** `runtime: auto | docker | local | swarm`; auto picks docker when the local engine answers, and says so. */
export async function createRuntime(config: WvoConfig, options: CreateRuntimeOptions = {}): Promise<SelectedRuntime> {
  if (config.runtime === 'local') return selected(localRuntimeFrom(config, options), config, options, 'runtime "local" in config');
  if (config.runtime === 'swarm') return selected(swarmRuntimeFrom(config, options), config, options, `runtime "swarm" in config (manager "${config.swarm?.manager ?? 'local'}")`);
  const docker = dockerRuntimeFrom(config, options);
  if (config.runtime === 'docker') return selected(docker, config, options, 'runtime "docker" in config');
  const local = connectHosts(config.hosts, options).get(LOCAL_HOST)!;
  try {
    await pingHost(local, 1500);
    return selected(docker, config, options, `auto: Docker engine answered at ${local.endpoint.url}`);
  } catch (error) {
    return selected(
      localRuntimeFrom(config, options),
      config,
      options,
      `auto: no Docker engine answered at ${local.endpoint.url} (${(error as Error).message.split(' (')[1]?.replace(/\)$/, '') ?? 'unreachable'}); using local processes`,
    );
  }
}

/** For callers that need a runtime kind they name (e.g. a flag); unknown kinds are usage errors. */
export function assertRuntimeKind(kind: string): asserts kind is RuntimeChoice {
  if (!(RUNTIME_CHOICES as readonly string[]).includes(kind)) {
    throw new RuntimeError('WVO_RUNTIME_UNAVAILABLE', `unknown runtime "${kind}"`, { subject: '--runtime', hint: `One of ${RUNTIME_CHOICES.join(', ')}.`, exitCode: 2 });
  }
}
