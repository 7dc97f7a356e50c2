import type { Clock } from '../../../common/src/clock.js';
import { silentLogger, type Logger } from '../../../common/src/logger.js';
import { appHealthSpec } from '../config/index.js';
import { artifactWriters, type DeploymentRecord, type Effect, type EffectRunner, type MetricsSnapshot, type ProbeResult } from '../promotion/index.js';
import type { ProxyAdminClient, SwitchResult } from '../proxy/index.js';
import type { LaneApp, LaneHealth, LaneInfo, LaneRuntime } from '../runtime/index.js';
import { readOrchestratorStatus } from './lane-status.js';
import { checkMcp } from './mcp-gate.js';
import { runProbes } from './probe-runner.js';
import { putWorkerFlag } from './worker-flags-client.js';
import { operationsErrors } from './errors.js';

type Of<K extends Effect['kind']> = Extract<Effect, { kind: K }>;

export interface LiveEffectRunnerOptions {
  runtime: LaneRuntime;
  proxy: ProxyAdminClient;
  /** The live state directory, used when the baseline lane's own directory is unknown. */
  stateRoot: string;
  /** `<projectRoot>/experiments`: promotion_plan.json goes under mcp/upgrade/<id>/. */
  experimentsRoot: string;
  clock: Clock;
  logger?: Logger;
  /** Bearer token of the workers' flag endpoint; lanes started here get it as WVO_ADMIN_TOKEN. */
  workerToken?: string;
  /** Extra environment for the lanes this runner starts. */
  laneEnv?: Record<string, string>;
  readyTimeoutMs?: number;
  /** SIGTERM grace when a lane is stopped (its in-flight calls finish inside it). */
  stopTimeoutMs?: number;
  /** Longest wait for the proxy to see a new lane healthy, or an old lane's in-flight requests end. */
  proxyWaitMs?: number;
  /** Poll interval of those waits. */
  pollMs?: number;
  /** The URL the proxy reaches a lane at (default: the runtime's, right when proxy and controller share a host). */
  laneUrl?: (lane: LaneInfo) => string;
  statusTimeoutMs?: number;
  /** Longest wait for a lane's MCP answers (initialize, ping, tools/list) before it takes traffic. */
  mcpGateTimeoutMs?: number;
  /** An app by name (wvo.config.json `apps`): the candidate runs the app its baseline lane runs. */
  apps?: (name: string) => LaneApp | undefined;
}

/** One switch the runner made (for `wvo promote --json` and the bench). */
export interface SwitchRecord {
  deployment: string;
  from: string | null;
  to: string;
  rollback: boolean;
  took_ms: number;
  at: string;
}

const RUNNING = new Set(['ready', 'starting', 'unhealthy']);
/** Probes of the target lane before a forward switch; all must fail to refuse it. */
const SWITCH_READY_ATTEMPTS = 3;
/** The probe timeout of each try; a lane that did not answer the last try is waited for longer. */
const SWITCH_PROBE_TIMEOUTS_MS = [1000, 3000, 6000] as const;
/** How long a switch the proxy refused for a failed health check waits for its next checks (its defaults: 2 s timeout, 1 s interval). */
const PROXY_RECHECK_WAIT_MS = 5_000;

/**
 * The promotion executor (DESIGN §5): the `EffectRunner` the reconciler drives, over the lanes
 * runtime, the proxy admin API and the workers' flag endpoint. Every method is idempotent (it is
 * re-issued after a crash) and reports an effect that did not work as a WvoError (→ rollback).
 * It never stops or restarts the lane the proxy routes new traffic to.
 */
export class LiveEffectRunner implements EffectRunner {
  readonly switches: SwitchRecord[] = [];
  private readonly log: Logger;
  private readonly writers: Pick<EffectRunner, 'writePlan' | 'writeWorkerManager'>;

  constructor(private readonly o: LiveEffectRunnerOptions) {
    this.log = o.logger ?? silentLogger();
    this.writers = artifactWriters({ experimentsRoot: o.experimentsRoot, stateRoot: o.stateRoot, clock: o.clock });
  }

  private async doStartCanary(effect: Of<'start_canary_lane'>, deployment: DeploymentRecord): Promise<void> {
    const { lane, image } = effect;
    await this.assertNotActive(lane, 'start the canary in');
    const existing = await this.o.runtime.getLane(lane);
    const reusable =
      existing && existing.status === 'ready' && existing.image === image && existing.deploymentId === deployment.id && !existing.dryRun;
    let info: LaneInfo;
    if (reusable) {
      info = existing;
      this.log.info({ lane, effect: 'start_canary_lane' }, `${lane} already runs ${image} for this deployment`);
    } else {
      // A stopped lane of an older deployment (its retention copy) or a half-started one: replace it.
      if (existing) await this.o.runtime.removeLane(lane, { timeoutMs: this.stopTimeout });
      info = await this.startLive(lane, image, deployment, await this.liveStateDir(deployment));
    }
    await this.register(info);
  }

  private async doStartLane(effect: Of<'start_lane'>, deployment: DeploymentRecord): Promise<void> {
    const { lane, image } = effect;
    const existing = await this.o.runtime.getLane(lane);
    let info: LaneInfo;
    if (existing && (await this.stillServes(existing))) info = existing;
    else {
      const stateDir = existing?.stateDir ?? (await this.liveStateDir(deployment));
      if (existing) await this.o.runtime.removeLane(lane, { timeoutMs: this.stopTimeout });
      info = await this.startLive(lane, image, deployment, stateDir, existing?.app);
    }
    await this.register(info);
  }

  /**
   * A kept lane is reused, not restarted: the listing's short probe may call a busy lane
   * `unhealthy`, so a running one is asked once more, patiently, before it is replaced (a restart
   * would throw away the warm lane a rollback is meant to be instant with).
   */
  private async stillServes(lane: LaneInfo): Promise<boolean> {
    if (lane.status === 'ready') return true;
    if (!RUNNING.has(lane.status)) return false;
    const health = await this.o.runtime.health(lane.name, { probeTimeoutMs: SWITCH_PROBE_TIMEOUTS_MS[1] }).catch(() => undefined);
    return health?.ready === true;
  }

  /**
   * Before a lane takes traffic (the switch, a canary weight): the proxy trusts its last health
   * check (up to an interval old), so ask the lane itself — /readyz, then MCP (initialize, ping,
   * tools/list). A lane that fails either is refused (→ rollback; traffic stays where it was).
   */
  private async gateTraffic(lane: string, what: string): Promise<void> {
    const health = await this.confirmReady(lane);
    if (health && !health.ready) {
      throw operationsErrors.create('WVO_DEPLOY_LANE_UNHEALTHY', `lane ${lane} is not ready (${health.detail ?? health.status}); ${what} refused`, {
        subject: lane,
        hint: '`wvo lane logs ' + lane + '`; the deployment rolls back, traffic stays where it was',
        details: { status: health.status, ...(health.httpStatus ? { http_status: health.httpStatus } : {}) },
      });
    }
    const info = await this.o.runtime.getLane(lane).catch(() => undefined);
    if (!info?.url) return; // the runtime cannot say where it is: the proxy's own health check guards it
    const mcp = await this.confirmMcp(lane, info.url, info.mcpPath);
    if (!mcp.ok) {
      throw operationsErrors.create('WVO_DEPLOY_LANE_UNHEALTHY', `lane ${lane} does not answer MCP (${mcp.detail}); ${what} refused`, {
        subject: lane,
        hint: '`wvo lane logs ' + lane + '`: /readyz passed but initialize, ping or tools/list did not; the deployment rolls back',
        details: { gate: 'mcp', detail: mcp.detail },
      });
    }
    this.log.info({ lane, gate: 'mcp', tools: mcp.tools }, `${lane} answers MCP (initialize, ping, tools/list: ${mcp.tools} tools)`);
  }

  /** Like confirmReady: a busy lane gets up to SWITCH_READY_ATTEMPTS tries. */
  private async confirmMcp(lane: string, url: string, mcpPath?: string): Promise<Awaited<ReturnType<typeof checkMcp>>> {
    let last = await checkMcp(url, this.o.mcpGateTimeoutMs ?? 5_000, mcpPath);
    for (let attempt = 2; !last.ok && attempt <= SWITCH_READY_ATTEMPTS; attempt++) {
      this.log.warn({ lane, attempt, detail: last.detail }, `lane ${lane} did not answer MCP before taking traffic (try ${attempt - 1} of ${SWITCH_READY_ATTEMPTS})`);
      await this.o.clock.sleep(250);
      last = await checkMcp(url, this.o.mcpGateTimeoutMs ?? 5_000, mcpPath);
    }
    return last;
  }

  private async doSetWeights(effect: Of<'set_weights'>, deployment: DeploymentRecord): Promise<void> {
    await this.gateTraffic(effect.lane, `weight ${effect.weight}%`);
    const result = await this.o.proxy.setWeights(effect.lane, effect.weight);
    this.log.info(
      { effect: 'set_weights', deployment: deployment.id, lane: effect.lane, weight: effect.weight, noop: result.noop },
      result.noop ? `proxy already sends ${effect.weight}% to ${effect.lane}` : `proxy sends ${effect.weight}% of new sessions to ${effect.lane}`,
    );
  }

  private async doSwitchProxy(effect: Of<'switch_proxy'>, deployment: DeploymentRecord): Promise<void> {
    const rollback = deployment.state === 'rolling_back';
    if (!rollback) await this.gateTraffic(effect.to, 'switch');
    // Rollback moves the candidate's sessions at once: nobody should wait on a lane being abandoned.
    const result: SwitchResult = await this.switchWhenProxySeesHealthy(effect.to, rollback);
    const record: SwitchRecord = {
      deployment: deployment.id,
      from: result.previous,
      to: result.active,
      rollback,
      took_ms: result.took_ms,
      at: result.switched_at,
    };
    this.switches.push(record);
    this.log.info(
      { effect: 'switch_proxy', ...record, noop: result.noop },
      result.noop ? `proxy already routes to ${effect.to}` : `proxy switched ${result.previous ?? '-'} → ${effect.to} in ${result.took_ms} ms`,
    );
  }

  /**
   * The proxy refuses a switch to a lane its last health check failed. Our gate has just seen the
   * lane ready and answering MCP, so such a refusal is one check that timed out on a busy machine:
   * wait (up to PROXY_RECHECK_WAIT_MS) for the proxy's next checks to see it healthy, then switch once more.
   * A lane the proxy never sees healthy again is refused as before (→ rollback).
   */
  private async switchWhenProxySeesHealthy(lane: string, rollback: boolean): Promise<SwitchResult> {
    const options = rollback ? { rollback: true } : {};
    try {
      return await this.o.proxy.switchTo(lane, options);
    } catch (error) {
      if ((error as { code?: string }).code !== 'WVO_PROXY_LANE_UNHEALTHY') throw error;
      this.log.warn({ lane, err: (error as Error).message }, `the proxy's last health check of ${lane} failed; waiting for it to see the lane healthy`);
      const waitMs = Math.min(this.o.proxyWaitMs ?? 10_000, PROXY_RECHECK_WAIT_MS);
      if (!(await this.proxySeesHealthy(lane, waitMs))) throw error;
      return this.o.proxy.switchTo(lane, options);
    }
  }

  /**
   * The lane's own /readyz, asked up to `SWITCH_READY_ATTEMPTS` times: one probe that times out on
   * a busy machine (a lane taking all traffic, a disk stalled by an image build or a WAL
   * checkpoint) is no reason to roll back, so a lane that did not answer at all is given a longer
   * wait on the next try (`SWITCH_PROBE_TIMEOUTS_MS`). A lane that is stopped, answers "not ready",
   * or stays silent on every try is refused. Undefined: the runtime could not say (the proxy's own
   * health check still guards the switch).
   */
  private async confirmReady(lane: string): Promise<LaneHealth | undefined> {
    let last: LaneHealth | undefined;
    for (let attempt = 1; attempt <= SWITCH_READY_ATTEMPTS; attempt++) {
      const silent = last !== undefined && last.httpStatus === undefined;
      const probeTimeoutMs = SWITCH_PROBE_TIMEOUTS_MS[silent ? attempt - 1 : 0]!;
      last = await this.o.runtime.health(lane, { probeTimeoutMs }).catch(() => undefined);
      if (!last || last.ready || last.status === 'stopped') return last;
      this.log.warn({ lane, attempt, status: last.status, detail: last.detail, probeTimeoutMs }, `lane ${lane} not ready before the switch (try ${attempt} of ${SWITCH_READY_ATTEMPTS})`);
      if (attempt < SWITCH_READY_ATTEMPTS) await this.o.clock.sleep(250);
    }
    return last;
  }

  // Effects run one at a time: a rollback requested while a step is in flight (another reconciler
  // in this process) waits for that step, so e.g. a flag flip can never land after its revert.
  startCanary: EffectRunner['startCanary'] = (effect, deployment) => this.serial(() => this.doStartCanary(effect, deployment));
  startLane: EffectRunner['startLane'] = (effect, deployment) => this.serial(() => this.doStartLane(effect, deployment));
  switchProxy: EffectRunner['switchProxy'] = (effect, deployment) => this.serial(() => this.doSwitchProxy(effect, deployment));
  setWeights: EffectRunner['setWeights'] = (effect, deployment) => this.serial(() => this.doSetWeights(effect, deployment));
  flipFlag: EffectRunner['flipFlag'] = (effect, deployment) =>
    this.serial(() => this.setFlag(effect.lane, effect.flag, effect.value, deployment, 'flip_flag'));
  revertFlag: EffectRunner['revertFlag'] = (effect, deployment) =>
    this.serial(() => this.setFlag(effect.lane, effect.flag, effect.value, deployment, 'revert_flag'));
  stopLane: EffectRunner['stopLane'] = (effect) => this.serial(() => this.doStopLane(effect));
  removeLane: EffectRunner['removeLane'] = (effect) => this.serial(() => this.doRemoveLane(effect));

  private async doStopLane(effect: Of<'stop_lane'>): Promise<void> {
    const { lane } = effect;
    await this.assertNotActive(lane, 'stop');
    const quiesceStarted = this.o.clock.now();
    await this.quiesce(lane);
    this.log.debug({ lane, ms: this.o.clock.now() - quiesceStarted }, 'quiesced');
    const info = await this.o.runtime.getLane(lane);
    if (!info || !RUNNING.has(info.status)) {
      this.log.info({ lane, effect: 'stop_lane' }, `${lane} is not running`);
      return;
    }
    await this.o.runtime.stopLane(lane, { timeoutMs: this.stopTimeout });
    this.log.info({ lane, effect: 'stop_lane' }, `${lane} stopped (kept for rollback)`);
  }

  private async doRemoveLane(effect: Of<'remove_lane'>): Promise<void> {
    await this.assertNotActive(effect.lane, 'remove');
    await this.o.runtime.removeLane(effect.lane, { timeoutMs: this.stopTimeout });
    this.log.info({ lane: effect.lane, effect: 'remove_lane' }, `${effect.lane} removed (retention over)`);
  }

  async readMetrics(deployment: DeploymentRecord): Promise<MetricsSnapshot> {
    const at = this.o.clock.now();
    const { candidate, baseline } = deployment.plan;
    const [proxyText, candidateStatus, baselineStatus] = await Promise.all([
      this.o.proxy.metrics(),
      this.statusOf(candidate.lane),
      this.statusOf(baseline.lane),
    ]);
    return {
      at,
      proxyText,
      ...(candidateStatus === undefined ? {} : { candidateStatus }),
      ...(baselineStatus === undefined ? {} : { baselineStatus }),
    };
  }

  /** The plan's probes against both lanes (their own URLs, not through the proxy). */
  async runProbes(deployment: DeploymentRecord): Promise<ProbeResult[]> {
    const { candidate, baseline } = deployment.plan;
    const url = async (lane: string) => {
      const info = await this.o.runtime.getLane(lane).catch(() => undefined);
      return info?.url && RUNNING.has(info.status) ? info.url : undefined;
    };
    const [c, b] = await Promise.all([url(candidate.lane), url(baseline.lane)]);
    return runProbes(deployment.plan.probes, { candidate: c, baseline: b });
  }

  writePlan: EffectRunner['writePlan'] = (deployment, transitions) => this.writers.writePlan(deployment, transitions);
  writeWorkerManager: EffectRunner['writeWorkerManager'] = (deployment, transitions) =>
    this.writers.writeWorkerManager(deployment, transitions);

  // -------------------------------------------------------------------------------------------

  private tail: Promise<unknown> = Promise.resolve();

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private get stopTimeout(): number {
    return this.o.stopTimeoutMs ?? 10_000;
  }

  private laneEnv(): Record<string, string> {
    return { ...this.o.laneEnv, ...(this.o.workerToken ? { WVO_ADMIN_TOKEN: this.o.workerToken } : {}) };
  }

  /**
   * The app a lane of this deployment runs: `known` (the lane's own record before it was
   * replaced), else what either lane of the plan runs (`wvo.app` label / record); none = our worker.
   */
  private async appOf(deployment: DeploymentRecord, known: string | undefined): Promise<LaneApp | undefined> {
    let name = known;
    for (const lane of [deployment.plan.baseline.lane, deployment.plan.candidate.lane]) {
      name ??= (await this.o.runtime.getLane(lane).catch(() => undefined))?.app;
    }
    return name ? this.o.apps?.(name) : undefined;
  }

  private async startLive(lane: string, image: string, deployment: DeploymentRecord, stateDir: string, knownApp?: string): Promise<LaneInfo> {
    const started = this.o.clock.now();
    const app = await this.appOf(deployment, knownApp);
    const info = await this.o.runtime.startLane(
      { name: lane, image, stateDir, dryRun: false, role: 'live', deploymentId: deployment.id, env: this.laneEnv(), ...(app ? { app } : {}) },
      this.o.readyTimeoutMs ? { readyTimeoutMs: this.o.readyTimeoutMs } : {},
    );
    this.log.info({ lane, url: info.url, effect: 'start_lane' }, `${lane} ready (${image}, live state, DRY_RUN=0) in ${this.o.clock.now() - started} ms`);
    return info;
  }

  /** Both lanes serve the same live database: the baseline's directory, else the state root. */
  private async liveStateDir(deployment: DeploymentRecord): Promise<string> {
    const baseline = await this.o.runtime.getLane(deployment.plan.baseline.lane).catch(() => undefined);
    return baseline?.stateDir ?? this.o.stateRoot;
  }

  private async assertNotActive(lane: string, what: string): Promise<void> {
    const { active } = await this.o.proxy.lanes();
    if (active === lane) {
      throw operationsErrors.create('WVO_DEPLOY_LANE_ACTIVE', `refusing to ${what} ${lane}: the proxy routes traffic to it`, {
        subject: lane,
        hint: 'the upgrade names the serving lane as its candidate; `wvo status` shows the active lane',
      });
    }
  }

  /** Register (or re-point) the lane with the proxy and wait until the proxy's health check passes. */
  private async register(info: LaneInfo): Promise<void> {
    const url = this.o.laneUrl?.(info) ?? info.url;
    if (!url) throw operationsErrors.create('WVO_DEPLOY_LANE_UNHEALTHY', `lane ${info.name} has no URL (${info.status})`, { subject: info.name });
    // A lane of another app than our worker is checked the way its app says (e.g. MCP-native).
    // An MCP check goes to the app's own MCP path (`mcp:/rpc`), as `wvo proxy --app` does.
    await this.o.proxy.registerLane({ name: info.name, url, ...(info.health ? { health: appHealthSpec({ health: info.health, mcpPath: info.mcpPath ?? '/mcp' }) } : {}) });
    if (!(await this.proxySeesHealthy(info.name))) {
      throw operationsErrors.create('WVO_DEPLOY_LANE_UNHEALTHY', `the proxy does not see ${info.name} (${url}) healthy`, {
        subject: info.name,
        hint: 'can the proxy reach the lane at that URL? (`wvo proxy` logs, lane logs)',
      });
    }
    this.log.info({ lane: info.name, url, effect: 'register' }, `proxy sees ${info.name} healthy at ${url}`);
  }

  /**
   * Before a lane stops: sessions still pinned to it move now (a drain with deadline 0), and the
   * requests the proxy already forwarded there finish (bounded; the worker's own SIGTERM drain
   * covers the rest).
   */
  private async quiesce(lane: string): Promise<void> {
    const view = (await this.o.proxy.lanes()).lanes.find((l) => l.name === lane);
    if (!view) return;
    if (view.role === 'draining') await this.o.proxy.drain(lane, { timeoutMs: 0 });
    const idle = await this.poll(async () => ((await this.o.proxy.lanes()).lanes.find((l) => l.name === lane)?.inflight ?? 0) === 0);
    this.log.info({ lane, effect: 'stop_lane', idle }, `${lane} quiesced`);
    if (!idle) this.log.warn({ lane }, `${lane} still has requests in flight; stopping anyway (the worker finishes them)`);
  }

  private async setFlag(lane: string, flag: string, value: string, deployment: DeploymentRecord, effect: string): Promise<void> {
    const token = this.o.workerToken;
    if (!token) {
      throw operationsErrors.create('WVO_DEPLOY_WORKER_TOKEN_MISSING', `cannot set ${flag}: no worker admin token`, {
        subject: 'WVO_ADMIN_TOKEN',
        hint: 'set WVO_ADMIN_TOKEN for the controller and the lanes',
        exitCode: 1, // a failed effect mid-deployment, not a usage error like the check before it starts
      });
    }
    // The lanes share the live database: if the named lane does not answer, the other one writes it.
    const { baseline, candidate } = deployment.plan;
    const order = [lane, ...[candidate.lane, baseline.lane].filter((l) => l !== lane)];
    let last: unknown;
    for (const name of order) {
      const info = await this.o.runtime.getLane(name).catch(() => undefined);
      // `unhealthy` may be one slow /readyz on busy cores: a running lane is asked, its answer decides.
      if (!info?.url || !RUNNING.has(info.status)) {
        this.log.warn({ lane: name, flag, status: info?.status ?? 'absent', effect }, `${flag}: ${name} is ${info?.status ?? 'absent'}, not asked`);
        continue;
      }
      try {
        const result = await putWorkerFlag(info.url, flag, value, { token });
        this.log.info({ lane: name, flag, value: result.value, previous: result.previous, effect }, `${flag}=${result.value} (was ${result.previous ?? 'unset'}) via ${name}`);
        return;
      } catch (error) {
        this.log.warn({ lane: name, flag, effect }, `${flag} via ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
        last = error;
      }
    }
    if (last) throw last;
    throw operationsErrors.create('WVO_DEPLOY_FLAG_FAILED', `cannot set ${flag}=${value}: no lane of deployment ${deployment.id} is running`, {
      subject: flag,
      hint: '`wvo lanes`; `wvo resume` re-issues the flag once a lane runs',
    });
  }

  private async statusOf(lane: string): Promise<unknown> {
    const info = await this.o.runtime.getLane(lane).catch(() => undefined);
    if (!info?.url || !RUNNING.has(info.status)) return undefined;
    return readOrchestratorStatus(info.url, this.o.statusTimeoutMs);
  }

  /** Until the proxy's health check sees `lane` healthy (true), or the wait ends (false). */
  private proxySeesHealthy(lane: string, waitMs?: number): Promise<boolean> {
    return this.poll(async () => (await this.o.proxy.lanes()).lanes.find((l) => l.name === lane)?.healthy === true, waitMs);
  }

  private async poll(check: () => Promise<boolean>, waitMs = this.o.proxyWaitMs ?? 10_000): Promise<boolean> {
    const deadline = this.o.clock.now() + waitMs;
    for (;;) {
      if (await check()) return true;
      if (this.o.clock.now() >= deadline) return false;
      await this.o.clock.sleep(this.o.pollMs ?? 50);
    }
  }
}
