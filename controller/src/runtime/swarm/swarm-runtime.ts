import type Docker from 'dockerode';
import { systemClock, type Clock } from '../../../../common/src/clock.js';
import { silentLogger, type Logger } from '../../../../common/src/logger.js';
import type { HostConfig } from '../../config/index.js';
import { IMAGE_USER, LABELS, type LaneResources } from '../docker/container-spec.js';
import { DockerRuntime } from '../docker/docker-runtime.js';
import { isNotFound, isTransportError, unreachable, type DockerHost } from '../docker/engine.js';
import { readContainerLogs } from '../docker/container-logs.js';
import { ensureLiveState, liveStateHolders, liveStateVolumeName } from '../docker/live-state.js';
import { prepareRemoteState, removeRemoteState } from '../docker/remote-state.js';
import { liveSnapshotHost, placeLiveLane } from '../live-placement.js';
import { snapshotLiveVolume } from '../docker/live-snapshot.js';
import { RuntimeError, laneNotFound, logExcerpt } from '../errors.js';
import type { EnsureImageResult, HealthOptions, LaneHealth, LaneInfo, LaneRuntime, LiveStateSnapshot, LaneSpec, LogOptions, Progress, StartOptions, StopOptions, TransferResult } from '../lane-runtime.js';
import { validateLaneSpec } from '../lane-spec.js';
import { probeListedLane, waitReady } from '../readiness.js';
import { checkStateDir } from '../state-dir.js';
import { NODE_LABEL, TERMINAL_TASK_STATES, currentTask, laneInfoFromService, publishedPort, serviceCreateSpec, serviceFilters, type ServiceView, type TaskView } from './service-spec.js';

export interface SwarmNodeConfig {
  /** The node label value (`<labelKey>=<label>` on the swarm node). */
  label: string;
  /** The config host that IS this node's engine: images are loaded and state prepared there. */
  host: string;
}

export interface SwarmRuntimeOptions {
  project: string;
  hosts?: HostConfig[];
  /** The host whose engine is a swarm manager (config `swarm.manager`). */
  manager: string;
  labelKey?: string;
  nodes: SwarmNodeConfig[];
  defaultNode?: string;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
  resources?: Partial<LaneResources>;
  clock?: Clock;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  baseDir?: string;
}

interface NodeRef extends SwarmNodeConfig {
  index: number;
  /** The swarm node's id, once the manager was asked. */
  id?: string;
}

const DEFAULT_RESOURCES: LaneResources = { memoryMb: 512, cpus: 1, pidsLimit: 256 };
const ACTIVE_TASK = (task: TaskView) => !(TERMINAL_TASK_STATES as readonly string[]).includes(task.Status?.State ?? '');

/**
 * Lanes as Swarm services (runtime "swarm"): one replica each, placed by a node label on the node
 * that holds its state (live lanes: the project's one live state volume, live-state.ts; the rest a
 * private copy, remote-state.ts), port 8080 published in host mode and
 * read back from the task list (node address + PublishedPort); ready when the task is `running`
 * (its healthcheck passed) and /readyz answers. No routing mesh and no VIP: the proxy routes to
 * the node address. Images are loaded on the target node's own engine first (save → load).
 */
export class SwarmRuntime implements LaneRuntime {
  readonly kind = 'swarm' as const;
  readonly project: string;
  /** The nodes' own engines (host handles, ping, image transfer): a docker runtime over the same hosts. */
  readonly engines: DockerRuntime;
  private readonly labelKey: string;
  private readonly nodes: NodeRef[];
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly resources: LaneResources;
  private checked: Promise<Map<string, NodeRef>> | undefined;

  constructor(private readonly options: SwarmRuntimeOptions) {
    this.project = options.project;
    this.engines = new DockerRuntime({
      project: options.project,
      hosts: options.hosts ?? [],
      ...(options.env ? { env: options.env } : {}),
      ...(options.baseDir ? { baseDir: options.baseDir } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    this.labelKey = options.labelKey ?? NODE_LABEL;
    this.nodes = options.nodes.map((node, index) => ({ ...node, index }));
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger();
    this.resources = { ...DEFAULT_RESOURCES, ...options.resources };
    // Config paths name the hosts: fail at once on a node whose host is not configured.
    this.engines.host(options.manager);
    for (const node of this.nodes) this.engines.host(node.host);
  }

  private manager(): DockerHost {
    return this.engines.host(this.options.manager);
  }

  private wrap(host: DockerHost, error: unknown): unknown {
    return isTransportError(error) ? unreachable(host, error) : error;
  }

  /** The configured node for a lane's `host` (a node label); default `swarm.defaultNode`, else the first. */
  node(label: string | undefined = this.options.defaultNode ?? this.nodes[0]?.label): NodeRef {
    const node = this.nodes.find((n) => n.label === label);
    if (!node) {
      throw new RuntimeError('WVO_SWARM_NODE_UNKNOWN', `no swarm node labelled "${label}" in swarm.nodes`, {
        subject: label ?? 'swarm.nodes',
        hint: `Known node labels: ${this.nodes.map((n) => n.label).join(', ') || '(none)'}.`,
        exitCode: 2,
      });
    }
    return node;
  }

  /**
   * The manager is an active swarm manager and every configured label is on a node: checked once
   * per instance (node ids are stable). Returns node id → configured node.
   */
  checkSwarm(): Promise<Map<string, NodeRef>> {
    this.checked ??= this.inspectSwarm().catch((error: unknown) => {
      this.checked = undefined;
      throw error;
    });
    return this.checked;
  }

  private async inspectSwarm(): Promise<Map<string, NodeRef>> {
    const manager = await this.engines.ping(this.options.manager);
    let info: { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
    try {
      info = (await manager.docker.info()) as typeof info;
    } catch (error) {
      throw this.wrap(manager, error);
    }
    if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) {
      throw new RuntimeError('WVO_SWARM_NOT_INITIALISED', `host "${manager.name}" (${manager.endpoint.url}) is not an active swarm manager (swarm state: ${info.Swarm?.LocalNodeState ?? 'unknown'}${info.Swarm?.LocalNodeState === 'active' ? ', a worker' : ''})`, {
        subject: 'swarm.manager',
        hint: `Run docker swarm init on it, or point swarm.manager at a manager.`,
        details: { host: manager.name },
      });
    }
    const swarmNodes = (await manager.docker.listNodes().catch((error: unknown) => Promise.reject(this.wrap(manager, error)))) as Array<{ ID: string; Spec?: { Labels?: Record<string, string> } }>;
    const byId = new Map<string, NodeRef>();
    for (const node of this.nodes) {
      const found = swarmNodes.find((n) => n.Spec?.Labels?.[this.labelKey] === node.label);
      if (!found) {
        throw new RuntimeError('WVO_SWARM_NODE_UNKNOWN', `no node of the swarm managed by "${manager.name}" carries the label ${this.labelKey}=${node.label}`, {
          subject: `swarm.nodes[${node.index}].label`,
          hint: `Label it: docker node update --label-add ${this.labelKey}=${node.label} NODE (on the manager).`,
          details: { label: node.label, nodes: swarmNodes.length },
        });
      }
      node.id = found.ID;
      byId.set(found.ID, node);
    }
    return byId;
  }

  async ensureImage(image: string, options: { host?: string; onProgress?: Progress } = {}): Promise<EnsureImageResult> {
    const node = this.node(options.host);
    const result = await this.engines.ensureImage(image, { host: node.host, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    return { ...result, host: node.label };
  }

  async transferImage(image: string, host: string, options: { onProgress?: Progress } = {}): Promise<TransferResult> {
    const node = this.node(host);
    return { ...(await this.engines.transferImage(image, node.host, options)), host: node.label };
  }

  private async services(lane?: string): Promise<ServiceView[]> {
    const manager = this.manager();
    try {
      return (await manager.docker.listServices({ filters: serviceFilters(this.project, lane) })) as ServiceView[];
    } catch (error) {
      throw this.wrap(manager, error);
    }
  }

  private async tasks(serviceId: string): Promise<TaskView[]> {
    const manager = this.manager();
    try {
      return (await manager.docker.listTasks({ filters: { service: [serviceId] } })) as TaskView[];
    } catch (error) {
      throw this.wrap(manager, error);
    }
  }

  /** Where a task's node is reached: its configured host's address. */
  private async addressOf(task: TaskView | undefined): Promise<string | undefined> {
    if (!task?.NodeID) return undefined;
    const node = (await this.checkSwarm()).get(task.NodeID);
    return node ? this.engines.host(node.host).address : undefined;
  }

  private async info(service: ServiceView): Promise<LaneInfo> {
    const task = currentTask(await this.tasks(service.ID));
    return laneInfoFromService(service, task, await this.addressOf(task));
  }

  /** The node a service's lane was placed on (from its label), or undefined for a foreign label. */
  private nodeOf(service: ServiceView): NodeRef | undefined {
    return this.nodes.find((n) => n.label === service.Spec?.Labels?.[NODE_LABEL]);
  }

  private async taskLogs(task: TaskView | undefined, node: NodeRef, tail = 100): Promise<string> {
    const id = task?.Status?.ContainerStatus?.ContainerID;
    return id ? readContainerLogs(this.engines.host(node.host), id, tail) : '';
  }

  async startLane(input: LaneSpec, options: StartOptions = {}): Promise<LaneInfo> {
    const spec = validateLaneSpec(input);
    await this.checkSwarm();
    const node = spec.role === 'live' ? await this.liveNode(spec.host) : this.node(spec.host);
    const stateDir = await checkStateDir(spec.stateDir);
    const [existing] = await this.services(spec.name);
    if (existing) {
      throw new RuntimeError('WVO_LANE_NAME_TAKEN', `lane "${spec.name}" already exists (swarm service ${existing.Spec?.Name})`, {
        subject: spec.name,
        hint: `Pick another name, or remove it first: wvo lane stop ${spec.name} --remove.`,
        exitCode: 2,
      });
    }
    const image = await this.ensureImage(spec.image, { host: node.label, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    const nodeHost = this.engines.host(node.host);
    options.onProgress?.({ phase: 'state', message: `${spec.role === 'live' ? 'live state' : `copying ${stateDir}`} on node ${node.label} (${nodeHost.name})` });
    const source = { project: this.project, lane: spec.name, image: spec.image, sourceDir: stateDir, user: IMAGE_USER };
    // Live lanes share the project's live state volume on the node (live-state.ts); the rest get a private copy.
    const state = await (spec.role === 'live'
      ? ensureLiveState(nodeHost, source).then((live) => ({ volume: live.volume, made: live.created }))
      : prepareRemoteState(nodeHost, source).then((copy) => ({ volume: copy.volume, made: true }))
    ).catch((error: unknown) => Promise.reject(this.wrap(nodeHost, error)));
    // The volume this start made goes if the lane fails; a reused live state never does.
    const madeVolume = state.made ? state.volume : undefined;
    const create = serviceCreateSpec(spec, {
      project: this.project,
      node: node.label,
      labelKey: this.labelKey,
      stateDir,
      stateVolume: state.volume,
      user: `${IMAGE_USER.uid}:${IMAGE_USER.gid}`,
      resources: this.resources,
      stopTimeoutSeconds: Math.ceil((this.options.stopTimeoutMs ?? 10_000) / 1000),
    });
    options.onProgress?.({ phase: 'start', message: `starting lane ${spec.name} on node ${node.label}` });
    const manager = this.manager();
    let service: Docker.Service;
    try {
      service = await manager.docker.createService(create as unknown as Docker.CreateServiceOptions);
    } catch (error) {
      if (madeVolume) await removeRemoteState(nodeHost, madeVolume).catch(() => undefined);
      throw this.wrap(manager, error);
    }
    try {
      const url = await waitReady({
        lane: spec.name,
        timeoutMs: options.readyTimeoutMs ?? this.options.readyTimeoutMs ?? 30_000,
        clock: this.clock,
        intervalMs: 200,
        url: async () => {
          const task = currentTask(await this.tasks(service.id));
          const port = publishedPort(task);
          if (task?.Status?.State !== 'running' || !port) return undefined;
          const address = await this.addressOf(task);
          return address ? `http://${address}:${port}` : undefined;
        },
        failure: async () => {
          const task = currentTask(await this.tasks(service.id));
          if (!task || ACTIVE_TASK(task)) return undefined;
          const logs = await this.taskLogs(task, node, 30);
          const exitCode = task.Status?.ContainerStatus?.ExitCode;
          return new RuntimeError('WVO_LANE_EXITED', `lane ${spec.name} exited during startup on node ${node.label} (task ${task.Status?.State}${exitCode === undefined ? '' : `, exit code ${exitCode}`}${task.Status?.Err ? `: ${task.Status.Err}` : ''}); last log lines:\n${logExcerpt(logs)}`, {
            subject: spec.name,
            hint: 'Fix the cause shown in the log lines; the service was removed.',
            details: { exitCode, taskState: task.Status?.State, logTail: logs.trimEnd().split('\n').slice(-20) },
          });
        },
        logs: async () => this.taskLogs(currentTask(await this.tasks(service.id)), node, 30),
      });
      this.logger.info({ lane: spec.name, node: node.label, url }, 'lane ready');
    } catch (error) {
      // Nothing half-started: the service, its containers and the state copy go.
      await this.teardown(service.id, spec.name, node, madeVolume).catch(() => undefined);
      throw this.wrap(manager, error);
    }
    const [after] = await this.services(spec.name);
    if (!after) throw new RuntimeError('WVO_LANE_EXITED', `lane ${spec.name} vanished right after it became ready`, { subject: spec.name });
    return { ...(await this.info(after)), status: 'ready', imageId: image.imageId };
  }

  /**
   * The node a live lane runs on: the one holding its project's live state volume, when one does
   * (blue and green mount the same database); else the asked or default node.
   */
  private async liveNode(asked: string | undefined): Promise<NodeRef> {
    const requested = this.node(asked);
    const byHost = new Map(this.nodes.map((n) => [n.host, n]));
    const holders = await liveStateHolders(
      [...byHost.keys()].map((name) => this.engines.host(name)),
      this.project,
      (host, error) => this.logger.warn({ host: host.name, err: (error as Error).message }, 'live state lookup skipped a node'),
    );
    const labels = holders.map((host) => byHost.get(host)!.label);
    return this.node(placeLiveLane({ requested: requested.label, explicit: asked !== undefined, holders: labels, volume: liveStateVolumeName(this.project) }));
  }

  /** Remove a service, wait until its containers are gone from the node, then (optionally) its state volume. */
  private async teardown(serviceId: string, lane: string, node: NodeRef | undefined, volume: string | undefined): Promise<void> {
    const manager = this.manager();
    try {
      await manager.docker.getService(serviceId).remove();
    } catch (error) {
      if (!isNotFound(error)) throw this.wrap(manager, error);
    }
    if (!node) return;
    const host = this.engines.host(node.host);
    const deadline = this.clock.now() + (this.options.stopTimeoutMs ?? 10_000) + 15_000;
    const filters = { label: [`${LABELS.project}=${this.project}`, `${LABELS.lane}=${lane}`, `${LABELS.managed}=1`] };
    while ((await host.docker.listContainers({ all: true, filters }).catch(() => [])).length > 0 && this.clock.now() < deadline) await this.clock.sleep(200);
    if (volume) await removeRemoteState(host, volume);
  }

  private async require(name: string): Promise<ServiceView> {
    const [service] = await this.services(name);
    if (!service) throw laneNotFound(name, this.project);
    return service;
  }

  async stopLane(name: string, options: StopOptions = {}): Promise<LaneInfo> {
    const service = await this.require(name);
    const manager = this.manager();
    const full = (await manager.docker.getService(service.ID).inspect()) as { Version: { Index: number }; Spec: Record<string, unknown> & { Mode?: unknown } };
    if ((full.Spec.Mode as { Replicated?: { Replicas?: number } } | undefined)?.Replicated?.Replicas !== 0) {
      await manager.docker.getService(service.ID).update({ _query: { version: full.Version.Index }, _body: { ...full.Spec, Mode: { Replicated: { Replicas: 0 } } } } as never);
    }
    // The task gets SIGTERM, then SIGKILL after its stop grace period: wait until none is active.
    const deadline = this.clock.now() + (options.timeoutMs ?? this.options.stopTimeoutMs ?? 10_000) + 15_000;
    while ((await this.tasks(service.ID)).some(ACTIVE_TASK)) {
      if (this.clock.now() > deadline) break;
      await this.clock.sleep(200);
    }
    const [after] = await this.services(name);
    return this.info(after ?? service);
  }

  async removeLane(name: string, options: StopOptions = {}): Promise<void> {
    const [service] = await this.services(name);
    if (!service) return;
    void options;
    const labels = service.Spec?.Labels ?? {};
    // The state copy goes with the lane; a live lane's copy is its state and stays.
    const volume = labels[LABELS.role] !== 'live' ? labels[LABELS.stateVolume] : undefined;
    await this.teardown(service.ID, name, this.nodeOf(service), volume);
  }

  async health(name: string, options: HealthOptions = {}): Promise<LaneHealth> {
    const lane = await this.getLane(name);
    if (!lane) throw laneNotFound(name, this.project);
    return probeListedLane(lane, options);
  }

  async logs(name: string, options: LogOptions = {}): Promise<string> {
    const service = await this.require(name);
    const node = this.nodeOf(service);
    return node ? this.taskLogs(currentTask(await this.tasks(service.ID)), node, options.tail ?? 100) : '';
  }

  async listLanes(options: { host?: string } = {}): Promise<LaneInfo[]> {
    if (options.host) this.node(options.host);
    const lanes: LaneInfo[] = [];
    for (const service of await this.services()) {
      const lane = await this.info(service);
      if (!options.host || lane.host === options.host) lanes.push(lane);
    }
    return lanes.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Every node keeps state in volumes: the live state volume on its node, snapshotted there (live-snapshot.ts). */
  async snapshotLiveState(options: { destDir: string; exclude?: readonly string[] }): Promise<LiveStateSnapshot | undefined> {
    const byLabel = new Map(this.nodes.map((n) => [n.label, n.host]));
    const liveLaneHosts = (await this.listLanes()).filter((l) => l.role === 'live').flatMap((l) => byLabel.get(l.host) ?? []);
    const holders = await liveStateHolders(
      [...new Set(this.nodes.map((n) => n.host))].map((name) => this.engines.host(name)),
      this.project,
      (host, error) => this.logger.warn({ host: host.name, err: (error as Error).message }, 'live state lookup skipped a node'),
    );
    const where = liveSnapshotHost({ liveLaneHosts, holders, volume: liveStateVolumeName(this.project) });
    if (where === undefined) return undefined;
    const host = this.engines.host(where);
    return snapshotLiveVolume(host, { project: this.project, ...options }).catch((error: unknown) => Promise.reject(this.wrap(host, error)));
  }

  async getLane(name: string): Promise<LaneInfo | undefined> {
    const [service] = await this.services(name);
    return service ? this.info(service) : undefined;
  }

  async close(): Promise<void> {
    await this.engines.close();
  }
}
