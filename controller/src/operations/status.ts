import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toErrorJson } from '../../../common/src/errors.js';
import { inspectLock } from '../harness/index.js';
import { CONTROLLER_DB_FILE, DeploymentStore, formatDuration, type DeploymentRecord, type DeploymentState, type Lease } from '../promotion/index.js';
import type { LaneRuntime, LaneStatus, RuntimeKind } from '../runtime/index.js';
import { readUpgradeShadowSummary } from '../shadow/index.js';
import { readWorkerManagerFile } from '../promotion/index.js';
import { resolveActiveLane, type ActiveLane } from './active-lane.js';
import type { ProxyLanes } from './deploy-operations.js';
import { cleanSoakMs, SoakStore, soakSummaryLine, type SoakRecord } from '../soak/index.js';

/** `wvo status` and `GET /status`: one shape for both (snake_case, like the other persisted files). */
export interface ControllerStatus {
  runtime: RuntimeKind;
  state_root: string;
  lanes: Array<{ name: string; role: string; image: string; status: LaneStatus; url: string | null }>;
  /** The serving lane: the proxy's routes when a proxy is configured, else the runtime's live lane (active-lane.ts); null when neither says. */
  active: ActiveLane | null;
  /** The running deployment, else the newest one; null when controller.db holds none. */
  deployment: {
    id: string;
    upgrade_id: string;
    state: DeploymentState;
    running: boolean;
    step: string;
    updated_at: string;
    /** The controller that holds its lease (drives it now); null when none does. */
    driver: { pid: number; host: string; renewed_at: string; expires_at: string } | null;
  } | null;
  /** state/analytics/upgrade_shadow.json: reported diffs of the last upgrade. */
  shadow: { count: number; path: string; recorded_at: string } | null;
  upgrade_lock: { state: 'free' | 'held' | 'stale'; id?: string };
  /** The running soak, else the newest; null when none was ever started. `line` is what `wvo status` prints. */
  soak: {
    id: string;
    upgrade_id: string;
    state: SoakRecord['state'];
    replayed: number;
    lag_calls: number;
    lag_ms: number;
    answer_diffs: number;
    state_diffs: number;
    clean_ms: number;
    line: string;
  } | null;
  /** A source that could not be read; the rest of the status is still shown. */
  warnings: Array<{ source: string; code: string; message: string }>;
}

export interface StatusSources {
  stateRoot: string;
  runtime: LaneRuntime;
  /** An open store (the server's); otherwise controller.db is opened only if it exists. */
  store?: DeploymentStore;
  /** The proxy admin client when a proxy is configured: its routes say which lane is active. */
  proxy?: ProxyLanes;
}

const RUNNING_STEP: Partial<Record<DeploymentState, (d: DeploymentRecord) => string>> = {
  shadowed: () => 'created, not started',
  canary_live: (d) => `canary: ${d.plan.steps[0]?.description ?? `start ${d.plan.candidate.lane}`}`,
  switched: (d) => `switched: ${d.plan.steps.find((s) => s.kind === 'switch')?.description ?? `proxy → ${d.plan.candidate.lane}`}`,
};

/** Pure: what a deployment is doing, in one line. */
export function deploymentStep(d: DeploymentRecord): string {
  const fixed = RUNNING_STEP[d.state];
  if (fixed) return fixed(d);
  if (d.state === 'weighted') {
    const o = d.observation;
    const steps = d.plan.canarySteps.length - 1;
    const last = d.analyses.at(-1);
    const score = last ? `; analysis ${last.verdict}${last.score === null ? '' : ` ${last.score}`}` : '';
    return o ? `weighted step ${(o.step ?? 0) + 1}/${steps}: ${o.weight}% to ${d.plan.candidate.lane}: ${o.checks} checks, ${o.failed} failed${score}` : 'weighted';
  }
  if (d.state === 'observing') {
    const o = d.observation;
    const phases = d.plan.flags.length + 1;
    const flag = o && o.phase > 0 ? `, ${d.plan.flags[o.phase - 1]?.name ?? '?'} flipped` : '';
    return o ? `observing phase ${o.phase + 1}/${phases}${flag}: ${o.checks} checks, ${o.failed} failed` : 'observing';
  }
  if (d.state === 'promoted') {
    if (d.baselineRemoved) return `promoted; ${d.plan.baseline.lane} removed`;
    if (d.warmUntil !== null) return `promoted; ${d.plan.baseline.lane} kept running (instant rollback) until ${new Date(d.warmUntil).toISOString()}`;
    const until = d.retentionEndsAt === null ? '' : ` until ${new Date(d.retentionEndsAt).toISOString()}`;
    return `promoted; ${d.plan.baseline.lane} kept for rollback${until} (${formatDuration(d.plan.retentionMs)})`;
  }
  const reason = d.rollback ? ` from ${d.rollback.from}: ${d.rollback.reason}` : '';
  return d.state === 'rolling_back' ? `rolling back${reason}` : `rolled back${reason}`;
}

function attempt<T>(warnings: ControllerStatus['warnings'], source: string, read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    const json = toErrorJson(error);
    warnings.push({ source, code: String(json.code), message: String(json.message) });
    return undefined;
  }
}

/**
 * Read everything `wvo status` shows straight from files and the runtime, so it works without a
 * running `wvo serve`. A missing file is normal (nothing happened yet); an unreadable one is a warning.
 */
export async function collectStatus(sources: StatusSources): Promise<ControllerStatus> {
  const { stateRoot, runtime } = sources;
  const warnings: ControllerStatus['warnings'] = [];

  let lanes: ControllerStatus['lanes'] = [];
  let listed = false;
  try {
    lanes = (await runtime.listLanes()).map((l) => ({ name: l.name, role: l.role, image: l.image, status: l.status, url: l.url ?? null }));
    listed = true;
  } catch (error) {
    const json = toErrorJson(error);
    warnings.push({ source: 'runtime', code: String(json.code), message: String(json.message) });
  }

  const manager = attempt(warnings, 'worker_manager.json', () => readWorkerManagerFile(stateRoot));
  let routes: Awaited<ReturnType<ProxyLanes['lanes']>> | undefined;
  if (sources.proxy) {
    try {
      routes = await sources.proxy.lanes();
    } catch (error) {
      const json = toErrorJson(error);
      warnings.push({ source: 'proxy', code: String(json.code), message: String(json.message) });
    }
  }
  const active = resolveActiveLane({ ...(routes ? { proxy: routes } : {}), ...(listed ? { lanes } : {}), ...(manager ? { manager } : {}) });

  let deployment: ControllerStatus['deployment'] = null;
  const dbExists = existsSync(join(stateRoot, CONTROLLER_DB_FILE));
  if (sources.store || dbExists) {
    const store = sources.store ?? attempt(warnings, CONTROLLER_DB_FILE, () => DeploymentStore.open(stateRoot));
    try {
      const record = store ? attempt(warnings, CONTROLLER_DB_FILE, () => store.running() ?? store.list(1)[0]) : undefined;
      if (record) {
        deployment = {
          id: record.id,
          upgrade_id: record.upgradeId,
          state: record.state,
          running: !['promoted', 'rolled_back'].includes(record.state),
          step: deploymentStep(record),
          updated_at: new Date(record.updatedAt).toISOString(),
          driver: driverOf(store!.lease(record.id)),
        };
      }
    } finally {
      if (!sources.store) store?.close();
    }
  }

  let shadow: ControllerStatus['shadow'] = null;
  try {
    const summary = await readUpgradeShadowSummary(stateRoot);
    if (summary) shadow = { count: summary.count, path: summary.path, recorded_at: summary.recorded_at };
  } catch (error) {
    const json = toErrorJson(error);
    warnings.push({ source: 'upgrade_shadow.json', code: String(json.code), message: String(json.message) });
  }

  let soak: ControllerStatus['soak'] = null;
  if (dbExists) {
    const soaks = attempt(warnings, 'soaks', () => SoakStore.open(stateRoot));
    try {
      const record = soaks ? attempt(warnings, 'soaks', () => soaks.running() ?? soaks.list(1)[0]) : undefined;
      if (record) {
        const { id, upgrade_id, state, replayed, lag_calls, lag_ms, answer_diffs, state_diffs } = record;
        soak = { id, upgrade_id, state, replayed, lag_calls, lag_ms, answer_diffs, state_diffs, clean_ms: cleanSoakMs(record), line: soakSummaryLine(record) };
      }
    } finally {
      soaks?.close();
    }
  }

  const lock = attempt(warnings, 'upgrade.lock', () => inspectLock(stateRoot));
  const upgrade_lock: ControllerStatus['upgrade_lock'] = lock
    ? { state: lock.state, ...('owner' in lock && lock.owner ? { id: lock.owner.id } : {}) }
    : { state: 'free' };

  return { runtime: runtime.kind, state_root: stateRoot, lanes, active, deployment, shadow, upgrade_lock, soak, warnings };
}

function driverOf(lease: Lease | undefined): NonNullable<ControllerStatus['deployment']>['driver'] {
  if (!lease) return null;
  return { pid: lease.pid, host: lease.host, renewed_at: new Date(lease.renewedAt).toISOString(), expires_at: new Date(lease.expiresAt).toISOString() };
}
