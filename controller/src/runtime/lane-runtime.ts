/**
 * A lane is one worker process with its own state, reachable over HTTP. `LaneRuntime` starts and
 * stops lanes; `docker/` runs them as containers (local or remote engines), `local/` as child
 * processes. Both honour the same contract (test/integration/runtime-contract.test.ts).
 */

import type { LaneApp } from './lane-app.js';

/**
 * What a lane is for (DESIGN §4–§5); stored as the `wvo.role` label. `schema-probe` is the
 * harness's schema-compat check: it writes (migrates) a private snapshot copy, never live state.
 */
export const LANE_ROLES = ['live', 'shadow-baseline', 'shadow-replica', 'shadow-candidate', 'schema-probe'] as const;

/** Roles that may run with DRY_RUN off (everything else must never write its state). */
export const WRITING_ROLES: readonly LaneRole[] = ['live', 'schema-probe'];
export type LaneRole = (typeof LANE_ROLES)[number];

/**
 * How the lane's worker treats its state: `live` writes it, `dry_run` (WVO_DRY_RUN=1) never writes
 * a byte, `sandbox` (WVO_SANDBOX=1) commits to a private snapshot copy and replays recorded runs.
 */
export const LANE_MODES = ['live', 'dry_run', 'sandbox'] as const;
export type LaneMode = (typeof LANE_MODES)[number];

/** Pure: a listed lane's mode; lanes started before modes were recorded are `dry_run` or `live` by their flag. */
export function listedLaneMode(recorded: string | undefined, dryRun: boolean): LaneMode {
  return (LANE_MODES as readonly string[]).includes(recorded ?? '') ? (recorded as LaneMode) : dryRun ? 'dry_run' : 'live';
}

export const RUNTIME_KINDS = ['docker', 'local', 'swarm'] as const;
export type RuntimeKind = (typeof RUNTIME_KINDS)[number];

/** Lane names become container names and file names: keep them DNS-label safe. */
export const LANE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface LaneSpec {
  name: string;
  /** Docker: an image reference. Local: a built tree (a path) or a tag mapped to one in config. */
  image: string;
  /** Host directory mounted at /state (docker) or passed as WVO_STATE_ROOT (local). */
  stateDir: string;
  /** Older spelling of `mode`: true = `dry_run`, false = `live`. */
  dryRun?: boolean;
  /** Default: `live` for writing roles, `dry_run` for the rest. */
  mode?: LaneMode;
  role?: LaneRole;
  deploymentId?: string;
  /** A host name from config; default the runtime's default host. */
  host?: string;
  /** Extra environment for the worker (WVO_* contract variables are set by the runtime). */
  env?: Record<string, string>;
  /** What the lane runs (port, MCP path, health, env names, local command); default our worker. */
  app?: LaneApp;
}

export const LANE_STATUSES = ['starting', 'ready', 'unhealthy', 'stopped', 'exited'] as const;
export type LaneStatus = (typeof LANE_STATUSES)[number];

export interface LaneInfo {
  name: string;
  runtime: RuntimeKind;
  host: string;
  image: string;
  /** Docker image id (sha256:…) or the tree path for local lanes. */
  imageId?: string;
  stateDir: string;
  /** Kept for older callers: `mode === 'dry_run'`. */
  dryRun: boolean;
  /** live | dry_run | sandbox (label `wvo.mode`, the local record's `mode`). */
  mode: LaneMode;
  role: LaneRole;
  deploymentId?: string;
  status: LaneStatus;
  /** Base URL of the worker (`http://address:port`), when running. */
  url?: string;
  port?: number;
  /** Container id or process id. */
  id: string;
  startedAt?: string;
  /** The app the lane runs (absent: our worker), its health spec and MCP path. */
  app?: string;
  health?: string;
  mcpPath?: string;
}

export interface LaneHealth {
  name: string;
  ready: boolean;
  status: LaneStatus;
  /** HTTP status of /readyz, when it answered. */
  httpStatus?: number;
  detail?: string;
}

export interface HealthOptions {
  /** How long the probe waits for an answer (default 1000 ms). */
  probeTimeoutMs?: number;
}

export interface Progress {
  (event: { phase: string; message?: string; current?: number; total?: number }): void;
}

export interface StartOptions {
  /** How long to wait for /readyz (default from config, 30 s). */
  readyTimeoutMs?: number;
  onProgress?: Progress;
}

export interface StopOptions {
  /** Grace period after SIGTERM before the lane is killed (default 10 s). */
  timeoutMs?: number;
}

export interface LogOptions {
  /** Last N lines (default 100). */
  tail?: number;
}

export interface TransferResult {
  image: string;
  imageId: string;
  host: string;
  bytes: number;
  durationMs: number;
  /** False when the host already had the image (nothing was sent). */
  transferred: boolean;
}

export interface EnsureImageResult {
  image: string;
  imageId: string;
  host: string;
  /** True when the image had to be transferred to the host first. */
  transferred: boolean;
}

/** The live state snapshotted where it lives (a volume on a lane host), fetched into a local dir with its manifest. */
export interface LiveStateSnapshot {
  host: string;
  volume: string;
  /** The image whose node ran the online backup on that host. */
  image: string;
  /** The local snapshot dir (manifest.json inside). */
  root: string;
  files: number;
  bytes: number;
  durationMs: number;
}

export interface LaneRuntime {
  readonly kind: RuntimeKind;
  /** Make `image` available on `host` (transfer from the local engine if missing); throws WVO_IMAGE_NOT_FOUND. */
  ensureImage(image: string, options?: { host?: string; onProgress?: Progress; app?: LaneApp }): Promise<EnsureImageResult>;
  /** Start a lane and wait until /readyz answers 200. A failed start leaves nothing behind. */
  startLane(spec: LaneSpec, options?: StartOptions): Promise<LaneInfo>;
  /** SIGTERM, wait, then kill. The lane stays listed (stopped) until removed. */
  stopLane(name: string, options?: StopOptions): Promise<LaneInfo>;
  /** Stop if running, then forget the lane (container removed). Idempotent. */
  removeLane(name: string, options?: StopOptions): Promise<void>;
  /** One readiness probe of the lane (default timeout 1 s; a gate that can wait longer passes `probeTimeoutMs`). */
  health(name: string, options?: HealthOptions): Promise<LaneHealth>;
  logs(name: string, options?: LogOptions): Promise<string>;
  /** Stream an image from the local engine to `host` (save → load), checked by image id. */
  transferImage(image: string, host: string, options?: { onProgress?: Progress }): Promise<TransferResult>;
  /** The lane table, rebuilt from what is running (labels / process records), not from memory. */
  listLanes(options?: { host?: string }): Promise<LaneInfo[]>;
  getLane(name: string): Promise<LaneInfo | undefined>;
  /**
   * When the project's live state is a volume on a lane host (state mode `volume`, swarm nodes):
   * a consistent snapshot of it taken there, in `destDir`. Undefined when the live state is this
   * machine's state root (local runtime, bind hosts), which the caller snapshots itself.
   */
  snapshotLiveState?(options: { destDir: string; exclude?: readonly string[] }): Promise<LiveStateSnapshot | undefined>;
  close(): Promise<void>;
}
