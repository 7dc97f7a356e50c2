import { listedLaneMode, type LaneInfo, type LaneRole, type LaneSpec, type LaneStatus } from '../lane-runtime.js';
import { LABELS, STATE_MOUNT, WORKER_PORT, containerName, laneEnv, laneLabels, type LaneResources } from '../docker/container-spec.js';

/**
 * Pure builders for the swarm runtime: lane spec → service spec, and service + its task → lane
 * table row. Tested without an engine (test/unit/runtime-swarm-spec.test.ts).
 */

/** The label naming the node a lane was placed on (its `swarm.nodes[].label`). */
export const NODE_LABEL = 'wvo.node';

export interface ServiceSpecContext {
  project: string;
  /** The node label value the lane is placed on (and reported as its host). */
  node: string;
  /** The node label key (`swarm.labelKey`). */
  labelKey: string;
  stateDir: string;
  stateVolume: string;
  user: string;
  resources: LaneResources;
  stopTimeoutSeconds: number;
}

/** A failing health probe counts after this long (the image says 3 s). */
export const HEALTH_TIMEOUT_NS = 10e9;
/** Consecutive failed probes before Swarm shuts the task down (the image says 3). */
export const HEALTH_RETRIES = 30;

/** Swarm task states that will not turn into a running lane any more. */
export const TERMINAL_TASK_STATES = ['complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned'] as const;

export interface TaskView {
  ID: string;
  NodeID?: string;
  DesiredState?: string;
  CreatedAt?: string;
  Status?: {
    State?: string;
    Err?: string;
    Message?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
    PortStatus?: { Ports?: Array<{ TargetPort?: number; PublishedPort?: number; PublishMode?: string }> };
  };
}

export interface ServiceView {
  ID: string;
  CreatedAt?: string;
  Spec?: { Name?: string; Labels?: Record<string, string>; Mode?: { Replicated?: { Replicas?: number } }; TaskTemplate?: { ContainerSpec?: { Image?: string } } };
}

export function serviceName(project: string, lane: string): string {
  return containerName(project, lane);
}

/**
 * One replica of the worker, on the node carrying `<labelKey>=<node>`, its state volume mounted,
 * port 8080 published in host mode on an engine-chosen port (no routing mesh: dnsrr endpoint, no
 * VIP; a fixed port would make a start-first update impossible, ENGINE.md). Never restarted by
 * the swarm: a lane that exits is reported, not retried.
 */
export function serviceCreateSpec(spec: LaneSpec, ctx: ServiceSpecContext): Record<string, unknown> {
  const labels = {
    ...laneLabels(spec, { project: ctx.project, hostName: ctx.node, networkMode: 'bridge', network: '', publishIp: '', stateDir: ctx.stateDir, stateVolume: ctx.stateVolume, user: ctx.user, resources: ctx.resources, stopTimeoutSeconds: ctx.stopTimeoutSeconds }),
    [NODE_LABEL]: ctx.node,
  };
  return {
    Name: serviceName(ctx.project, spec.name),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: spec.image,
        Env: laneEnv(spec, { networkMode: 'bridge' }),
        Labels: labels,
        User: ctx.user,
        ReadOnly: true,
        Mounts: [
          { Type: 'volume', Source: ctx.stateVolume, Target: STATE_MOUNT },
          { Type: 'tmpfs', Target: '/tmp', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024 } },
        ],
        StopSignal: 'SIGTERM',
        StopGracePeriod: ctx.stopTimeoutSeconds * 1e9,
        CapabilityDrop: ['ALL'],
        // The image's healthcheck, probed every second: the task turns `running` when healthy.
        // Unlike a plain container, Swarm SHUTS DOWN a task that turns unhealthy (and, with no
        // restart, the lane is gone): the image's 3 s timeout × 3 retries killed both live lanes of
        // a fleet under SDK load on a busy 2-core machine (fleet-swarm.test.ts). Readiness keeps the
        // fast probe; only ~30 s of failing or hung checks count as dead.
        Healthcheck: { Interval: 1e9, Timeout: HEALTH_TIMEOUT_NS, Retries: HEALTH_RETRIES },
      },
      Resources: { Limits: { MemoryBytes: ctx.resources.memoryMb * 1024 * 1024, NanoCPUs: Math.round(ctx.resources.cpus * 1e9), Pids: ctx.resources.pidsLimit } },
      RestartPolicy: { Condition: 'none', MaxAttempts: 0 },
      Placement: { Constraints: [`node.labels.${ctx.labelKey} == ${ctx.node}`] },
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: { Mode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: WORKER_PORT, PublishMode: 'host' }] },
  };
}

/** Filters for listServices: every lane of a project (optionally one lane). */
export function serviceFilters(project: string, lane?: string): { label: string[] } {
  return { label: [`${LABELS.managed}=1`, `${LABELS.project}=${project}`, ...(lane ? [`${LABELS.lane}=${lane}`] : [])] };
}

/** The task that speaks for the service: the newest one (swarm keeps a short history). */
export function currentTask(tasks: readonly TaskView[]): TaskView | undefined {
  return [...tasks].sort((a, b) => (b.CreatedAt ?? '').localeCompare(a.CreatedAt ?? ''))[0];
}

export function publishedPort(task: TaskView | undefined): number | undefined {
  return task?.Status?.PortStatus?.Ports?.find((p) => p.TargetPort === WORKER_PORT && p.PublishedPort)?.PublishedPort;
}

/** A lane's status from its replica count and current task (pure). */
export function statusFromTask(replicas: number, task: TaskView | undefined): LaneStatus {
  if (replicas === 0) return 'stopped';
  const state = task?.Status?.State;
  if (state === 'running') return 'ready';
  if (state === 'failed' || state === 'rejected' || state === 'orphaned') return 'exited';
  if (state && (TERMINAL_TASK_STATES as readonly string[]).includes(state)) return 'stopped';
  return 'starting';
}

/** A lane table row from a service (labels are the source of truth) and its current task. */
export function laneInfoFromService(service: ServiceView, task: TaskView | undefined, address: string | undefined): LaneInfo {
  const labels = service.Spec?.Labels ?? {};
  const replicas = service.Spec?.Mode?.Replicated?.Replicas ?? 0;
  const status = statusFromTask(replicas, task);
  const port = publishedPort(task);
  const deploymentId = labels[LABELS.deployment];
  return {
    name: labels[LABELS.lane] ?? service.Spec?.Name ?? service.ID,
    runtime: 'swarm',
    host: labels[NODE_LABEL] ?? labels[LABELS.host] ?? '',
    image: labels[LABELS.image] ?? service.Spec?.TaskTemplate?.ContainerSpec?.Image ?? '',
    stateDir: labels[LABELS.state] ?? '',
    dryRun: labels[LABELS.dryRun] === '1',
    mode: listedLaneMode(labels[LABELS.mode], labels[LABELS.dryRun] === '1'),
    role: (labels[LABELS.role] ?? 'live') as LaneRole,
    ...(deploymentId ? { deploymentId } : {}),
    status,
    ...(status === 'ready' && port && address ? { url: `http://${address}:${port}`, port } : {}),
    id: service.ID,
    ...(service.CreatedAt ? { startedAt: service.CreatedAt } : {}),
  };
}
