import { promises as fs } from 'node:fs';
import { randomInt } from 'node:crypto';
import type Docker from 'dockerode';
import type { ContainerInfo } from 'dockerode';
import { systemClock, type Clock } from '../../../../common/src/clock.js';
import { silentLogger, type Logger } from '../../../../common/src/logger.js';
import type { HostConfig } from '../../config/index.js';
import { RuntimeError, laneNotFound, logExcerpt } from '../errors.js';
import type {
  EnsureImageResult,
  HealthOptions,
  LaneHealth,
  LaneInfo,
  LaneRuntime,
  LaneSpec,
  LiveStateSnapshot,
  LogOptions,
  Progress,
  StartOptions,
  StopOptions,
  TransferResult,
} from '../lane-runtime.js';
import { validateLaneSpec } from '../lane-spec.js';
import { probeListedLane, probeReady, waitReady } from '../readiness.js';
import { checkStateDir, chownTree, planContainerUser } from '../state-dir.js';
import {
  IMAGE_USER,
  LABELS,
  WORKER_PORT,
  appPort,
  choosePort,
  containerCreateOptions,
  laneFilters,
  laneInfoFromContainer,
  networkCreateOptions,
  type LaneAddressMode,
  type LaneResources,
} from './container-spec.js';
import { LOCAL_HOST, connectHosts, isConflict, isNotFound, isTransportError, pingHost, unreachable, type DockerHost } from './engine.js';
import { readContainerLogs } from './container-logs.js';
import { ensureLiveState, liveStateHolders, liveStateVolumeName } from './live-state.js';
import { prepareRemoteState, removeRemoteState } from './remote-state.js';
import { liveSnapshotHost, placeLiveLane } from '../live-placement.js';
import { snapshotLiveVolume } from './live-snapshot.js';
import { transferImage } from './transfer.js';
import { removeNetwork } from './network-removal.js';

export interface DockerRuntimeOptions {
  project: string;
  /** Project network (default `<project>-net`). */
  network?: string;
  hosts?: HostConfig[];
  defaultHost?: string;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
  resources?: Partial<LaneResources>;
  portRange?: [number, number];
  /**
   * How bridge lanes are addressed (config `lanes.address`): `published` (default) a port on the
   * host's loopback; `network` `http://<container name>:8080`, for a controller and proxy running
   * as containers on the project network (compose). Host-network lanes keep the host's address.
   */
  laneAddress?: LaneAddressMode;
  clock?: Clock;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Directory relative TLS paths resolve against. */
  baseDir?: string;
}

const DEFAULT_RESOURCES: LaneResources = { memoryMb: 512, cpus: 1, pidsLimit: 256 };

/** Lanes as containers on one or more Docker engines, labelled so the table survives restarts. */
export class DockerRuntime implements LaneRuntime {
  readonly kind = 'docker' as const;
  readonly project: string;
  readonly network: string;
  readonly laneAddress: LaneAddressMode;
  private readonly hosts: Map<string, DockerHost>;
  private readonly defaultHost: string;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly resources: LaneResources;
  private readonly networkModes = new Map<string, Promise<'bridge' | 'host'>>();
  private readonly networks = new Map<string, Promise<string>>();

  constructor(private readonly options: DockerRuntimeOptions) {
    this.project = options.project;
    this.network = options.network ?? `${options.project}-net`;
    this.laneAddress = options.laneAddress ?? 'published';
    this.hosts = connectHosts(options.hosts ?? [], { ...(options.env ? { env: options.env } : {}), ...(options.baseDir ? { baseDir: options.baseDir } : {}) });
    this.defaultHost = options.defaultHost ?? LOCAL_HOST;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger();
    this.resources = { ...DEFAULT_RESOURCES, ...options.resources };
  }

  hostNames(): string[] {
    return [...this.hosts.keys()];
  }

  host(name: string = this.defaultHost): DockerHost {
    const host = this.hosts.get(name);
    if (!host) {
      throw new RuntimeError('WVO_HOST_UNKNOWN', `no Docker host named "${name}"`, {
        subject: name,
        hint: `Known hosts: ${this.hostNames().join(', ')}. Add it to "hosts" in wvo.config.json.`,
        exitCode: 2,
      });
    }
    return host;
  }

  /** Ping a host; WVO_ENGINE_UNREACHABLE names its endpoint. */
  async ping(name?: string): Promise<DockerHost> {
    const host = this.host(name);
    await pingHost(host);
    return host;
  }

  /** Whether lanes on `host` get a project bridge network or share the host's network. */
  networkMode(host: DockerHost): Promise<'bridge' | 'host'> {
    if (host.network !== 'auto') return Promise.resolve(host.network);
    let mode = this.networkModes.get(host.name);
    if (!mode) {
      // An engine started with --bridge=none (ENGINE.md's second host) has no "bridge" network.
      mode = host.docker
        .listNetworks({ filters: { driver: ['bridge'] } })
        .then((networks) => (networks.some((n) => n.Name === 'bridge') ? ('bridge' as const) : ('host' as const)))
        .catch((error: unknown) => {
          this.networkModes.delete(host.name);
          throw this.wrap(host, error);
        });
      this.networkModes.set(host.name, mode);
    }
    return mode;
  }

  private wrap(host: DockerHost, error: unknown): unknown {
    return isTransportError(error) ? unreachable(host, error) : error;
  }

  private async imageId(host: DockerHost, image: string): Promise<string | undefined> {
    try {
      return (await host.docker.getImage(image).inspect()).Id;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.wrap(host, error);
    }
  }

  async ensureImage(image: string, options: { host?: string; onProgress?: Progress } = {}): Promise<EnsureImageResult> {
    const host = await this.ping(options.host);
    const id = await this.imageId(host, image);
    if (id) return { image, imageId: id, host: host.name, transferred: false };
    if (host.local) {
      throw new RuntimeError('WVO_IMAGE_NOT_FOUND', `image ${image} is not on host "${host.name}" (${host.endpoint.url})`, {
        subject: image,
        hint: 'Build it (wvo images build) or check the name and tag (docker images).',
      });
    }
    const result = await this.transferImage(image, host.name, options.onProgress ? { onProgress: options.onProgress } : {});
    return { image, imageId: result.imageId, host: host.name, transferred: result.transferred };
  }

  async transferImage(image: string, hostName: string, options: { onProgress?: Progress } = {}): Promise<TransferResult> {
    const from = await this.ping(LOCAL_HOST);
    const to = this.host(hostName);
    try {
      await pingHost(to);
    } catch (error) {
      throw new RuntimeError('WVO_TRANSFER_FAILED', `cannot send ${image} to host "${to.name}": ${(error as Error).message}`, {
        subject: to.endpoint.url,
        hint: `Check that host "${to.name}" answers (wvo hosts check).`,
        cause: error,
      });
    }
    return transferImage(from, to, image, options.onProgress);
  }

  private async containers(host: DockerHost, lane?: string): Promise<ContainerInfo[]> {
    try {
      return await host.docker.listContainers({ all: true, filters: laneFilters(this.project, lane) });
    } catch (error) {
      throw this.wrap(host, error);
    }
  }

  /** Find a lane's container on any host (or undefined). */
  private async find(name: string): Promise<{ host: DockerHost; container: ContainerInfo } | undefined> {
    for (const host of this.hosts.values()) {
      if (host.name !== this.defaultHost && !(await this.answers(host))) continue;
      const [container] = await this.containers(host, name);
      if (container) return { host, container };
    }
    return undefined;
  }

  private async answers(host: DockerHost): Promise<boolean> {
    try {
      // ssh: the first ping sets the connection up (seconds); later ones reuse it.
      await pingHost(host, host.endpoint.scheme === 'ssh' ? 10_000 : 2000);
      return true;
    } catch {
      return false;
    }
  }

  private async require(name: string): Promise<{ host: DockerHost; container: ContainerInfo }> {
    const found = await this.find(name);
    if (!found) throw laneNotFound(name, this.project);
    return found;
  }

  async startLane(input: LaneSpec, options: StartOptions = {}): Promise<LaneInfo> {
    const spec = validateLaneSpec(input);
    const host = await this.ping(spec.role === 'live' ? await this.liveHost(spec.host) : spec.host);
    const stateDir = await checkStateDir(spec.stateDir);
    const existing = await this.find(spec.name);
    if (existing) {
      throw new RuntimeError('WVO_LANE_NAME_TAKEN', `lane "${spec.name}" already exists on host "${existing.host.name}" (${existing.container.State})`, {
        subject: spec.name,
        hint: `Pick another name, or remove it first: wvo lane stop ${spec.name} --remove.`,
        exitCode: 2,
      });
    }
    // bind: the state dir of this machine, mounted. volume: a copy prepared on the lane's host (remote-state.ts).
    const userPlan = host.state === 'bind' ? await this.bindUser(stateDir) : { user: `${IMAGE_USER.uid}:${IMAGE_USER.gid}`, adopt: false };
    const image = await this.ensureImage(spec.image, { host: host.name, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    const mode = await this.networkMode(host);
    let port: number | undefined;
    let networkId = '';
    if (mode === 'bridge') networkId = await this.ensureNetwork(host);
    else port = await this.freePort(host);
    if (userPlan.adopt) {
      // Root-owned dir the controller made (snapshots, CLI): hand it to the image user.
      await chownTree(stateDir, IMAGE_USER.uid, IMAGE_USER.gid);
      this.logger.info({ lane: spec.name, stateDir }, 'adopted state dir for the lane user');
    }
    let stateVolume: string | undefined;
    // The volume this start made (removed again if the lane fails); a reused live state is never removed.
    let madeVolume: string | undefined;
    if (host.state === 'volume') {
      options.onProgress?.({ phase: 'state', message: `${spec.role === 'live' ? 'live state' : `copying ${stateDir}`} on host ${host.name}` });
      try {
        const state = { project: this.project, lane: spec.name, image: spec.image, sourceDir: stateDir, user: IMAGE_USER };
        if (spec.role === 'live') {
          const live = await ensureLiveState(host, state);
          stateVolume = live.volume;
          if (live.created) madeVolume = live.volume;
          this.logger.info({ lane: spec.name, volume: live.volume, created: live.created, ...live.prepared }, live.created ? 'live state prepared on the lane host' : 'live state on the lane host reused');
        } else {
          const prepared = await prepareRemoteState(host, state);
          stateVolume = madeVolume = prepared.volume;
          this.logger.info({ lane: spec.name, ...prepared }, 'state prepared on the lane host');
        }
      } catch (error) {
        throw this.wrap(host, error);
      }
    }
    const create = containerCreateOptions(spec, {
      project: this.project,
      hostName: host.name,
      networkMode: mode,
      network: networkId,
      publishIp: host.publishIp,
      address: this.laneAddress,
      ...(port === undefined ? {} : { port }),
      stateDir,
      ...(stateVolume ? { stateVolume } : {}),
      user: userPlan.user,
      resources: this.resources,
      stopTimeoutSeconds: Math.ceil((this.options.stopTimeoutMs ?? 10_000) / 1000),
    });
    options.onProgress?.({ phase: 'start', message: `starting lane ${spec.name} on ${host.name}` });
    let container: Docker.Container;
    try {
      container = await host.docker.createContainer(create);
    } catch (error) {
      if (isConflict(error)) {
        throw new RuntimeError('WVO_LANE_NAME_TAKEN', `a container named ${create.name} already exists on host "${host.name}"`, {
          subject: spec.name,
          hint: `Remove it (docker rm -f ${create.name}) or pick another lane name.`,
          exitCode: 2,
        });
      }
      if (madeVolume) await removeRemoteState(host, madeVolume).catch(() => undefined);
      if (isNotFound(error)) {
        throw new RuntimeError('WVO_IMAGE_NOT_FOUND', `image ${spec.image} is not on host "${host.name}"`, { subject: spec.image, hint: 'Build or transfer it first.' });
      }
      throw this.wrap(host, error);
    }
    try {
      await container.start();
      const url = await waitReady({
        lane: spec.name,
        ...(spec.app ? { health: spec.app.health, mcpPath: spec.app.mcpPath } : {}),
        timeoutMs: options.readyTimeoutMs ?? this.options.readyTimeoutMs ?? 30_000,
        clock: this.clock,
        url: async () => {
          if (mode === 'host') return `http://${host.address}:${port}`;
          if (this.laneAddress === 'network') return `http://${create.name}:${appPort(spec)}`;
          const info = await container.inspect();
          const hostPort = info.NetworkSettings.Ports?.[`${appPort(spec)}/tcp`]?.[0]?.HostPort;
          return hostPort ? `http://${host.address}:${hostPort}` : undefined;
        },
        failure: async () => {
          const info = await container.inspect();
          if (info.State.Running) return undefined;
          const logs = await readContainerLogs(host, container.id, 30);
          return new RuntimeError('WVO_LANE_EXITED', `lane ${spec.name} exited during startup (exit code ${info.State.ExitCode}${info.State.OOMKilled ? ', out of memory' : ''}); last log lines:\n${logExcerpt(logs)}`, {
            subject: spec.name,
            hint: 'Fix the cause shown in the log lines; the container was removed.',
            details: { exitCode: info.State.ExitCode, logTail: logs.trimEnd().split('\n').slice(-20) },
          });
        },
        logs: () => readContainerLogs(host, container.id, 30),
      });
      this.logger.info({ lane: spec.name, host: host.name, url }, 'lane ready');
    } catch (error) {
      // Nothing half-started: a lane that did not become ready is removed, with its state copy.
      await container.remove({ force: true }).catch(() => undefined);
      if (madeVolume) await removeRemoteState(host, madeVolume).catch(() => undefined);
      throw this.wrap(host, error);
    }
    const [info] = await this.containers(host, spec.name);
    if (!info) throw new RuntimeError('WVO_LANE_EXITED', `lane ${spec.name} vanished right after it became ready`, { subject: spec.name });
    return { ...laneInfoFromContainer(info, host.address, this.laneAddress), status: 'ready', imageId: image.imageId };
  }

  /**
   * The host a live lane runs on: where its project's live state volume is, when a volume-mode host
   * holds one (blue and green mount the same database, live-state.ts); else the asked or default host.
   */
  private async liveHost(asked: string | undefined): Promise<string> {
    const requested = asked ?? this.defaultHost;
    const volumeHosts = [...this.hosts.values()].filter((h) => h.state === 'volume');
    if (volumeHosts.length === 0) return requested;
    const holders = await liveStateHolders(volumeHosts, this.project, (host, error) => {
      this.logger.warn({ host: host.name, err: (error as Error).message }, 'live state lookup skipped a host');
    });
    return placeLiveLane({ requested, explicit: asked !== undefined, holders, volume: liveStateVolumeName(this.project) });
  }

  /** The live state volume on its volume-mode host, snapshotted there (live-snapshot.ts); undefined when no such host holds it. */
  async snapshotLiveState(options: { destDir: string; exclude?: readonly string[] }): Promise<LiveStateSnapshot | undefined> {
    const volumeHosts = [...this.hosts.values()].filter((h) => h.state === 'volume');
    if (volumeHosts.length === 0) return undefined;
    const names = new Set(volumeHosts.map((h) => h.name));
    const liveLaneHosts = (await this.listLanes()).filter((l) => l.role === 'live' && names.has(l.host)).map((l) => l.host);
    const holders = await liveStateHolders(volumeHosts, this.project, (host, error) => {
      this.logger.warn({ host: host.name, err: (error as Error).message }, 'live state lookup skipped a host');
    });
    const where = liveSnapshotHost({ liveLaneHosts, holders, volume: liveStateVolumeName(this.project) });
    if (where === undefined) return undefined;
    const host = await this.ping(where);
    try {
      return await snapshotLiveVolume(host, { project: this.project, ...options });
    } catch (error) {
      throw this.wrap(host, error);
    }
  }

  /** Which user a lane runs as so it can write its bind-mounted state dir (state-dir.ts). */
  private async bindUser(stateDir: string): Promise<{ user: string; adopt: boolean }> {
    const stat = await fs.stat(stateDir);
    const userPlan = planContainerUser({ uid: stat.uid, gid: stat.gid, mode: stat.mode }, IMAGE_USER, process.getuid?.() === 0);
    if (!('user' in userPlan) || userPlan.user === undefined) {
      throw new RuntimeError('WVO_STATE_DIR_NOT_WRITABLE', `state directory ${stateDir} is not writable by the lane's non-root user: ${'reason' in userPlan ? userPlan.reason : ''}`, {
        subject: stateDir,
        hint: `chown -R ${IMAGE_USER.uid}:${IMAGE_USER.gid} ${stateDir} (or give its owner u+rwx).`,
      });
    }
    return { user: userPlan.user, adopt: userPlan.adopt };
  }

  /**
   * The project network's id, created once. Creation is not atomic on the engine (two creates
   * with one name can both succeed), so concurrent starts share one promise here, and a race with
   * another controller is settled by keeping the oldest network and removing our duplicate.
   */
  private ensureNetwork(host: DockerHost): Promise<string> {
    let pending = this.networks.get(host.name);
    if (!pending) {
      pending = this.createNetwork(host).catch((error: unknown) => {
        this.networks.delete(host.name);
        throw this.wrap(host, error);
      });
      this.networks.set(host.name, pending);
    }
    return pending;
  }

  private async createNetwork(host: DockerHost): Promise<string> {
    const named = async () => (await host.docker.listNetworks({ filters: { name: [this.network] } })).filter((n) => n.Name === this.network);
    const existing = await named();
    if (existing.length === 0) await host.docker.createNetwork(networkCreateOptions(this.project, this.network));
    const all = (await named()).sort((a, b) => a.Created.localeCompare(b.Created) || a.Id.localeCompare(b.Id));
    for (const duplicate of all.slice(1)) await host.docker.getNetwork(duplicate.Id).remove().catch(() => undefined);
    if (!all[0]) throw new RuntimeError('WVO_ENGINE_UNREACHABLE', `network ${this.network} vanished on host "${host.name}"`, { subject: this.network });
    return all[0].Id;
  }

  /**
   * Remove the project network on `host` (default host), disconnecting what is still attached;
   * a network that stays is logged as a warning naming it. True when it is gone.
   */
  async removeNetwork(hostName?: string): Promise<boolean> {
    const host = this.host(hostName);
    const result = await removeNetwork(host.docker, this.network, this.clock);
    this.networks.delete(host.name);
    if (!result.removed) {
      this.logger.warn({ network: this.network, host: host.name, attempts: result.attempts, error: result.error }, `network ${this.network} could not be removed; remove it with \`docker network rm ${this.network}\``);
    }
    return result.removed;
  }

  /** A port for a host-network lane: not used by another lane of ours on that host. */
  private async freePort(host: DockerHost): Promise<number> {
    const range = this.options.portRange ?? [20000, 29999];
    const used = new Set<number>();
    try {
      for (const c of await host.docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=1`] } })) {
        const port = Number(c.Labels?.[LABELS.port]);
        if (port) used.add(port);
      }
    } catch (error) {
      throw this.wrap(host, error);
    }
    const port = choosePort(range, used, randomInt(range[1] - range[0] + 1));
    if (port === undefined) {
      throw new RuntimeError('WVO_LANE_SPEC_INVALID', `no free port left in lanes.portRange ${range.join('-')} on host "${host.name}"`, {
        subject: 'lanes.portRange',
        hint: 'Widen lanes.portRange or remove stopped lanes.',
      });
    }
    return port;
  }

  async stopLane(name: string, options: StopOptions = {}): Promise<LaneInfo> {
    const { host, container } = await this.require(name);
    const timeoutMs = options.timeoutMs ?? this.options.stopTimeoutMs ?? 10_000;
    if (container.State === 'running') {
      try {
        // The engine sends SIGTERM, waits t seconds, then SIGKILL.
        await host.docker.getContainer(container.Id).stop({ t: Math.ceil(timeoutMs / 1000) });
      } catch (error) {
        if (!isNotFound(error) && (error as { statusCode?: number }).statusCode !== 304) throw this.wrap(host, error);
      }
    }
    const [after] = await this.containers(host, name);
    return after ? laneInfoFromContainer(after, host.address, this.laneAddress) : { ...laneInfoFromContainer(container, host.address, this.laneAddress), status: 'stopped' };
  }

  async removeLane(name: string, options: StopOptions = {}): Promise<void> {
    const found = await this.find(name);
    if (!found) return;
    if (found.container.State === 'running') await this.stopLane(name, options);
    try {
      await found.host.docker.getContainer(found.container.Id).remove({ force: true });
    } catch (error) {
      if (!isNotFound(error)) throw this.wrap(found.host, error);
    }
    // A state copy on the lane's host goes with the lane; a live lane's is its state and stays.
    const volume = found.container.Labels?.[LABELS.stateVolume];
    if (volume && found.container.Labels?.[LABELS.role] !== 'live') await removeRemoteState(found.host, volume).catch((error: unknown) => Promise.reject(this.wrap(found.host, error)));
  }

  async health(name: string, options: HealthOptions = {}): Promise<LaneHealth> {
    const lane = await this.getLane(name);
    if (!lane) throw laneNotFound(name, this.project);
    return probeListedLane(lane, options);
  }

  async logs(name: string, options: LogOptions = {}): Promise<string> {
    const { host, container } = await this.require(name);
    return readContainerLogs(host, container.Id, options.tail ?? 100);
  }

  async listLanes(options: { host?: string } = {}): Promise<LaneInfo[]> {
    const hosts = options.host ? [this.host(options.host)] : [...this.hosts.values()];
    const lanes: LaneInfo[] = [];
    for (const host of hosts) {
      // Unreachable remote hosts are skipped in the table (wvo hosts check reports them); the default host must answer.
      if (!options.host && host.name !== this.defaultHost && !(await this.answers(host))) continue;
      for (const container of await this.containers(host)) {
        const lane = laneInfoFromContainer(container, host.address, this.laneAddress);
        // The engine's healthcheck lags a fresh start by up to its interval: ask the lane itself.
        if (lane.status === 'starting' && lane.url && (await probeReady(lane.url, 500, lane.health, lane.mcpPath)).ready) lane.status = 'ready';
        lanes.push(lane);
      }
    }
    return lanes.sort((a, b) => a.name.localeCompare(b.name));
  }

  async getLane(name: string): Promise<LaneInfo | undefined> {
    const found = await this.find(name);
    if (!found) return undefined;
    const lane = laneInfoFromContainer(found.container, found.host.address, this.laneAddress);
    if (lane.status === 'starting' && lane.url && (await probeReady(lane.url, 500, lane.health, lane.mcpPath)).ready) lane.status = 'ready';
    return lane;
  }

  async close(): Promise<void> {
    // Only ssh hosts hold a connection (docker/ssh-agent.ts); the others are per request.
    for (const host of this.hosts.values()) host.close();
  }
}
