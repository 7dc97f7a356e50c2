import { Counter, Histogram, Registry } from 'prom-client';
import { WvoError, isWvoError } from '../../common/src/errors.js';
import type {
  EffectKind,
  EffectRunner,
  FlagName,
  MetricsSnapshot,
} from '../../controller/src/promotion/index.js';
import type { Clock } from '../../common/src/clock.js';
import type { ProxyLanes } from '../../controller/src/operations/index.js';
import type { LaneRuntime } from '../../controller/src/runtime/index.js';
import {
  buildPromotionPlan,
  newDeploymentRecord,
  parsePromotionOptions,
  transition,
  type DeploymentRecord,
  type DeploymentState,
  type PromotionEvent,
  type PromotionOptionsInput,
  type UpgradeSummary,
} from '../../controller/src/promotion/index.js';

/** A harness summary that passes every promotion check. */
export function upgradeSummary(overrides: Partial<UpgradeSummary> = {}): UpgradeSummary {
  return {
    id: 'up-1',
    outcome: 'warnings',
    steps: [
      { name: 'preflight', status: 'ok' },
      { name: 'build', status: 'ok' },
      { name: 'test', status: 'ok' },
      { name: 'shadow', status: 'warning' },
      { name: 'schema-compat', status: 'ok' },
      { name: 'summary', status: 'ok' },
    ],
    baseline: { lane: 'blue', image: 'wvo-worker:v1' },
    candidate: { lane: 'green', image: 'wvo-worker:up-1' },
    ...overrides,
  };
}

export function plan(options: PromotionOptionsInput = {}) {
  return buildPromotionPlan(
    upgradeSummary(),
    // keepWarmMs 0: most cases are about the baseline stopping at promotion (the default keeps it warm 30 s).
    parsePromotionOptions({ observeMs: '1m', intervalMs: '10s', maxFailedChecks: 2, keepWarmMs: 0, ...options }),
  );
}

/** The events that walk a fresh deployment forward to `state` (flags: none). */
const WALK: Record<DeploymentState, PromotionEvent[]> = {
  shadowed: [],
  canary_live: [{ type: 'start' }],
  weighted: [{ type: 'start' }, { type: 'canary_ready' }],
  switched: [{ type: 'start' }, { type: 'canary_ready' }],
  observing: [{ type: 'start' }, { type: 'canary_ready' }, { type: 'switched' }],
  promoted: [{ type: 'start' }, { type: 'canary_ready' }, { type: 'switched' }, { type: 'observe_window_elapsed' }],
  rolling_back: [{ type: 'start' }, { type: 'rollback_requested', reason: 'test' }],
  rolled_back: [{ type: 'start' }, { type: 'rollback_requested', reason: 'test' }, { type: 'rollback_complete' }],
};

/** A record in `state`, reached through the machine itself; time advances 1 minute per event. */
export function recordIn(state: DeploymentState, options: PromotionOptionsInput = {}): DeploymentRecord {
  let record = newDeploymentRecord('dep-1', plan(options), 0);
  let now = 0;
  for (const event of WALK[state]) {
    now += 60_000;
    record = transition(record, event, now).record;
  }
  // `weighted` is reached by a plan with canary steps: the fixture gives it one (10 %) unless told otherwise.
  if (state === 'weighted' && record.plan.canarySteps.length === 1) return recordIn(state, { steps: '10', ...options });
  if (record.state !== state) throw new Error(`fixture walk ended in ${record.state}, not ${state}`);
  return record;
}

// ---------------------------------------------------------------------------------------------
// An in-memory EffectRunner: small but real lanes, proxy, flags and proxy metrics (a prom-client
// registry fed with synthetic traffic on each scrape). It records every call and can be told to
// fail an effect (a WvoError: an effect failure) or to crash (a plain Error: the controller dies).

export type RunnerStep = EffectKind | 'read_metrics';
type LaneState = 'running' | 'stopped' | 'removed';

interface Fault {
  step: RunnerStep;
  remaining: number;
  crash: boolean;
  when?: (deployment: DeploymentRecord) => boolean;
}

export class InMemoryRunner implements EffectRunner {
  readonly calls: string[] = [];
  readonly lanes = new Map<string, LaneState>([['blue', 'running']]);
  active = 'blue';
  /** The weighted canary, as the proxy would hold it (cleared by a switch). */
  canary: { lane: string; weight: number } | null = null;
  readonly flags = new Map<FlagName, string>([
    ['PROMPT_MODE', 'off'],
    ['SANDBOX_MODE', 'off'],
    ['SELECTIVE_TESTS', 'off'],
  ]);
  /** Share of requests each lane answers with 502, per scrape interval. */
  readonly errorRate = new Map<string, number>();
  /** Called before every step with the deployment as the runner received it. */
  onStep: ((step: RunnerStep, deployment: DeploymentRecord) => void) | undefined;
  planWrites = 0;
  workerManagerWrites = 0;
  private readonly faults: Fault[] = [];
  private readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'wvo_proxy_requests_total',
    help: 'h',
    labelNames: ['lane', 'code'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'wvo_proxy_request_duration_seconds',
    help: 'h',
    labelNames: ['lane'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });

  constructor(private readonly clock: Clock) {}

  /** Make `step` fail (WvoError) `times` times, or crash the controller (plain Error). */
  fail(step: RunnerStep, options: { times?: number; crash?: boolean; when?: (d: DeploymentRecord) => boolean } = {}): this {
    this.faults.push({ step, remaining: options.times ?? 1, crash: options.crash ?? false, when: options.when });
    return this;
  }

  private step(step: RunnerStep, deployment: DeploymentRecord, detail: string): void {
    this.onStep?.(step, deployment);
    const fault = this.faults.find((f) => f.step === step && f.remaining > 0 && (f.when?.(deployment) ?? true));
    if (fault) {
      fault.remaining--;
      this.calls.push(`${fault.crash ? 'CRASH' : 'FAIL'} ${step}${detail ? ` ${detail}` : ''}`);
      if (fault.crash) throw new Error(`simulated controller crash in ${step}`);
      throw new WvoError('WVO_TEST_EFFECT_FAILED', `${step} failed (test)`);
    }
    this.calls.push(`${step}${detail ? ` ${detail}` : ''}`);
  }

  async startCanary(e: { lane: string }, d: DeploymentRecord) {
    this.step('start_canary_lane', d, e.lane);
    this.lanes.set(e.lane, 'running');
  }
  async startLane(e: { lane: string }, d: DeploymentRecord) {
    this.step('start_lane', d, e.lane);
    if (this.lanes.get(e.lane) === 'removed') throw new WvoError('WVO_TEST_EFFECT_FAILED', `${e.lane} was removed`);
    this.lanes.set(e.lane, 'running');
  }
  async switchProxy(e: { to: string; from: string }, d: DeploymentRecord) {
    this.step('switch_proxy', d, `${e.from}->${e.to}`);
    if (this.lanes.get(e.to) !== 'running') throw new WvoError('WVO_TEST_EFFECT_FAILED', `${e.to} is not running`);
    this.active = e.to;
    this.canary = null;
  }
  async setWeights(e: { lane: string; weight: number }, d: DeploymentRecord) {
    this.step('set_weights', d, `${e.lane}=${e.weight}`);
    if (this.lanes.get(e.lane) !== 'running') throw new WvoError('WVO_TEST_EFFECT_FAILED', `${e.lane} is not running`);
    this.canary = { lane: e.lane, weight: e.weight };
  }
  async flipFlag(e: { flag: FlagName; value: string }, d: DeploymentRecord) {
    this.step('flip_flag', d, `${e.flag}=${e.value}`);
    this.flags.set(e.flag, e.value);
  }
  async revertFlag(e: { flag: FlagName; value: string }, d: DeploymentRecord) {
    this.step('revert_flag', d, `${e.flag}=${e.value}`);
    this.flags.set(e.flag, e.value);
  }
  async stopLane(e: { lane: string }, d: DeploymentRecord) {
    this.step('stop_lane', d, e.lane);
    if (this.lanes.get(e.lane) === 'running') this.lanes.set(e.lane, 'stopped');
  }
  async removeLane(e: { lane: string }, d: DeploymentRecord) {
    this.step('remove_lane', d, e.lane);
    this.lanes.set(e.lane, 'removed');
  }
  async readMetrics(d: DeploymentRecord): Promise<MetricsSnapshot> {
    this.step('read_metrics', d, '');
    // 20 requests since the last scrape on the active lane (split by the canary weight), failing at its configured rate.
    const onCanary = this.canary ? Math.round((20 * this.canary.weight) / 100) : 0;
    const shares: Array<[string, number]> = [[this.active, 20 - onCanary], ...(this.canary ? [[this.canary.lane, onCanary] as [string, number]] : [])];
    for (const [lane, n] of shares) {
      const failing = Math.round(n * (this.errorRate.get(lane) ?? 0));
      for (let i = 0; i < n; i++) {
        this.requests.inc({ lane, code: i < failing ? '502' : '200' });
        this.latency.observe({ lane }, 0.02);
      }
    }
    const status = { queue: { total: 5, by_status: { open: 5 } }, token_pressure: { ratio: 0.2 } };
    return { at: this.clock.now(), proxyText: await this.registry.metrics(), candidateStatus: status, baselineStatus: status };
  }
  /** The proxy admin API as this runner's proxy answers it (what a promotion checks before it begins). */
  readonly proxy: ProxyLanes = {
    lanes: async () => ({ active: this.active, canary: null, last_switch: null, lanes: [] }),
  };
  /** Images the runtime holds: a promotion checks its candidate's before it begins. */
  readonly images = new Set(['wvo-worker:v1', 'wvo-worker:up-1']);
  readonly runtime: Pick<LaneRuntime, 'ensureImage'> = {
    ensureImage: async (image) => {
      if (!this.images.has(image)) throw new WvoError('WVO_IMAGE_NOT_FOUND', `image ${image} is not on host "local"`, { subject: image });
      return { image, imageId: `sha256:${image}`, host: 'local', transferred: false };
    },
  };

  /** Properties, so a test can swap in the real file writers (artifactWriters). */
  writePlan: EffectRunner['writePlan'] = async (d) => {
    this.step('write_plan', d, '');
    this.planWrites++;
  };
  writeWorkerManager: EffectRunner['writeWorkerManager'] = async (d) => {
    this.step('write_worker_manager', d, '');
    this.workerManagerWrites++;
  };

  /** Calls that changed lanes, proxy or flags (no scrapes or file writes). */
  actions(): string[] {
    return this.calls.filter((c) => !/^(read_metrics|write_plan|write_worker_manager)/.test(c));
  }
}

/** The `code` of the WvoError `fn` throws (or a marker when it throws something else). */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isWvoError(error) ? error.code : `not a WvoError: ${String(error)}`;
  }
  return undefined;
}
