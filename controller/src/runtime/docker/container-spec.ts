import type { ContainerCreateOptions, ContainerInfo, NetworkCreateOptions } from 'dockerode';
import { appEnv, WORKER_APP } from '../lane-app.js';
import { listedLaneMode, type LaneInfo, type LaneRole, type LaneSpec, type LaneStatus } from '../lane-runtime.js';

/**
 * Pure builders: lane spec → dockerode options, and container labels → lane table rows. No I/O,
 * so every rule here is unit-tested without an engine (test/unit/runtime-container-spec.test.ts).
 */

/** The port the worker listens on inside a bridge-networked container. */
export const WORKER_PORT = 8080;
export const STATE_MOUNT = '/state';
/** The non-root user the images declare (`node`, uid 1000, in both the official and the offline base). */
export const IMAGE_USER = { uid: 1000, gid: 1000 } as const;

export const LABELS = {
  managed: 'wvo.managed',
  project: 'wvo.project',
  lane: 'wvo.lane',
  deployment: 'wvo.deployment',
  role: 'wvo.role',
  dryRun: 'wvo.dry-run',
  mode: 'wvo.mode',
  state: 'wvo.state',
  host: 'wvo.host',
  port: 'wvo.port',
  image: 'wvo.image',
  /** Set when the state lives in a volume on the lane's host (remote-state.ts), not a bind mount. */
  stateVolume: 'wvo.state-volume',
  /** A lane running another app than our worker: its name, container port, health spec and MCP path. */
  app: 'wvo.app',
  appPort: 'wvo.app-port',
  health: 'wvo.health',
  mcpPath: 'wvo.mcp-path',
} as const;

/** The port the lane's server listens on inside its container. */
export function appPort(spec: LaneSpec): number {
  return spec.app?.port ?? WORKER_PORT;
}

/** `published`: a host port on `publishIp`; `network`: `http://<container name>:8080` on the project network. */
export type LaneAddressMode = 'published' | 'network';

export interface LaneResources {
  memoryMb: number;
  cpus: number;
  pidsLimit: number;
}

export interface ContainerSpecContext {
  project: string;
  /** Host name from config (stored as a label so listLanes can say where a lane runs). */
  hostName: string;
  /** bridge: attach to `network`, publish on 127.0.0.1 (ephemeral). host: share the host's network, listen on `port`. */
  networkMode: 'bridge' | 'host';
  /** The project network (its id: names can be ambiguous on the engine). */
  network: string;
  /** Bridge mode: the host address ports are published on (127.0.0.1 for the local engine). */
  publishIp: string;
  /** Bridge mode: `network` publishes nothing (lanes are reached by container name on `network`). Default `published`. */
  address?: LaneAddressMode;
  /** Used in host mode only: the port the worker listens on. */
  port?: number;
  /** Absolute host path of the state dir. */
  stateDir: string;
  /** A volume on the lane's host holding the state copy: mounted instead of `stateDir`. */
  stateVolume?: string;
  /** uid:gid the container runs as (never root). */
  user: string;
  resources: LaneResources;
  stopTimeoutSeconds: number;
}

export function containerName(project: string, lane: string): string {
  return `${project}-lane-${lane}`;
}

export function laneLabels(spec: LaneSpec, ctx: ContainerSpecContext): Record<string, string> {
  return {
    [LABELS.managed]: '1',
    [LABELS.project]: ctx.project,
    [LABELS.lane]: spec.name,
    [LABELS.deployment]: spec.deploymentId ?? '',
    [LABELS.role]: spec.role ?? 'live',
    [LABELS.dryRun]: spec.dryRun ? '1' : '0',
    [LABELS.mode]: listedLaneMode(spec.mode, spec.dryRun ?? false),
    [LABELS.state]: ctx.stateDir,
    [LABELS.host]: ctx.hostName,
    [LABELS.image]: spec.image,
    ...(ctx.networkMode === 'host' && ctx.port !== undefined ? { [LABELS.port]: String(ctx.port) } : {}),
    ...(ctx.stateVolume ? { [LABELS.stateVolume]: ctx.stateVolume } : {}),
    ...(spec.app ? { [LABELS.app]: spec.app.name, [LABELS.appPort]: String(spec.app.port), [LABELS.health]: spec.app.health, [LABELS.mcpPath]: spec.app.mcpPath } : {}),
  };
}

/** The worker's environment: the contract variables always win over `spec.env`. */
export function laneEnv(spec: LaneSpec, ctx: Pick<ContainerSpecContext, 'networkMode' | 'port'>): string[] {
  const port = ctx.networkMode === 'host' ? ctx.port : appPort(spec);
  if (port === undefined) throw new Error('host network mode needs a port');
  const app = spec.app ?? WORKER_APP;
  const env = appEnv(app, { port, host: '0.0.0.0', stateRoot: app.stateMount, dryRun: spec.dryRun ?? false, sandbox: spec.mode === 'sandbox' }, spec.env);
  return Object.entries(env).map(([key, value]) => `${key}=${value}`);
}

export function containerCreateOptions(spec: LaneSpec, ctx: ContainerSpecContext): ContainerCreateOptions {
  const bridge = ctx.networkMode === 'bridge';
  const publish = bridge && ctx.address !== 'network';
  const portKey = `${appPort(spec)}/tcp`;
  return {
    name: containerName(ctx.project, spec.name),
    Image: spec.image,
    Env: laneEnv(spec, ctx),
    Labels: laneLabels(spec, ctx),
    User: ctx.user,
    StopSignal: 'SIGTERM',
    StopTimeout: ctx.stopTimeoutSeconds,
    ...(bridge ? { ExposedPorts: { [portKey]: {} } } : {}),
    HostConfig: {
      Binds: [`${ctx.stateVolume ?? ctx.stateDir}:${spec.app?.stateMount ?? STATE_MOUNT}:rw`],
      NetworkMode: bridge ? ctx.network : 'host',
      // Ephemeral host port on loopback (local engine) only: the proxy and the controller reach lanes there.
      // `network` addressing publishes nothing: the proxy and controller share the project network.
      ...(publish ? { PortBindings: { [portKey]: [{ HostIp: ctx.publishIp, HostPort: '' }] } } : {}),
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,noexec,nosuid,size=64m' },
      Memory: ctx.resources.memoryMb * 1024 * 1024,
      NanoCpus: Math.round(ctx.resources.cpus * 1e9),
      PidsLimit: ctx.resources.pidsLimit,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      RestartPolicy: { Name: 'no' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
    },
  };
}

export function networkCreateOptions(project: string, network: string): NetworkCreateOptions {
  return {
    Name: network,
    Driver: 'bridge',
    CheckDuplicate: true,
    Labels: { [LABELS.managed]: '1', [LABELS.project]: project },
  };
}

/** Filters for listContainers: every lane of a project (optionally one lane). */
export function laneFilters(project: string, lane?: string): { label: string[] } {
  return { label: [`${LABELS.managed}=1`, `${LABELS.project}=${project}`, ...(lane ? [`${LABELS.lane}=${lane}`] : [])] };
}

function statusFromState(state: string, health: string | undefined): LaneStatus {
  if (state === 'running') {
    if (health === 'unhealthy') return 'unhealthy';
    if (health === 'starting') return 'starting';
    return 'ready';
  }
  if (state === 'created' || state === 'restarting') return 'starting';
  // exited, dead, paused, removing: not serving.
  return 'stopped';
}

/** The container's name as its peers on a user network resolve it (no leading slash). */
export function containerDnsName(container: Pick<ContainerInfo, 'Names' | 'Id'>): string {
  return container.Names?.[0]?.replace(/^\//, '') ?? container.Id.slice(0, 12);
}

/**
 * A lane table row from a listContainers entry (labels are the source of truth). `address` is the
 * host's address; with `network` addressing a bridge lane (no port label) is reached by its
 * container name on port 8080 instead of a published port.
 */
export function laneInfoFromContainer(container: ContainerInfo, address: string, addressing: LaneAddressMode = 'published'): LaneInfo {
  const labels = container.Labels ?? {};
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(container.Status ?? '')?.[1];
  const status = statusFromState(container.State, health === 'health: starting' ? 'starting' : health);
  const innerPort = labels[LABELS.appPort] ? Number(labels[LABELS.appPort]) : WORKER_PORT;
  const published = container.Ports?.find((p) => p.PrivatePort === innerPort && p.PublicPort)?.PublicPort;
  const hostNetwork = Boolean(labels[LABELS.port]);
  const byName = addressing === 'network' && !hostNetwork;
  const port = hostNetwork ? Number(labels[LABELS.port]) : byName ? innerPort : published;
  const urlHost = byName ? containerDnsName(container) : address;
  const running = container.State === 'running';
  const deploymentId = labels[LABELS.deployment];
  return {
    name: labels[LABELS.lane] ?? container.Names?.[0]?.replace(/^\//, '') ?? container.Id,
    runtime: 'docker',
    host: labels[LABELS.host] ?? 'local',
    image: labels[LABELS.image] ?? container.Image,
    imageId: container.ImageID,
    stateDir: labels[LABELS.state] ?? '',
    dryRun: labels[LABELS.dryRun] === '1',
    mode: listedLaneMode(labels[LABELS.mode], labels[LABELS.dryRun] === '1'),
    role: (labels[LABELS.role] ?? 'live') as LaneRole,
    ...(deploymentId ? { deploymentId } : {}),
    status,
    ...(running && port ? { url: `http://${urlHost}:${port}`, port } : {}),
    id: container.Id,
    startedAt: new Date(container.Created * 1000).toISOString(),
    ...(labels[LABELS.app] ? { app: labels[LABELS.app], health: labels[LABELS.health] ?? '/readyz', mcpPath: labels[LABELS.mcpPath] ?? '/mcp' } : {}),
  };
}

/** Pick a port for a host-network lane: first free in range after a seed, skipping ports in use (pure). */
export function choosePort(range: readonly [number, number], used: ReadonlySet<number>, seed: number): number | undefined {
  const size = range[1] - range[0] + 1;
  for (let i = 0; i < size; i++) {
    const port = range[0] + ((seed + i) % size);
    if (!used.has(port)) return port;
  }
  return undefined;
}
