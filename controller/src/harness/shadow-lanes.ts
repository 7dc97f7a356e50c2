import { cp, mkdir, rm } from 'node:fs/promises';
import type { LaneMode, LaneRole } from '../runtime/index.js';
import type { LaneTracker, ReadyLane } from './steps/lane-tracker.js';

/**
 * The shadow's lanes as one set: which lane runs which version on which directory, started in
 * parallel; and the capability check that keeps an old baseline from running LIVE on its copy.
 */

/** Which version a lane runs: the baseline's image, or the candidate's. */
export type LaneVersion = 'baseline' | 'candidate';

export interface ShadowLanePlan {
  /** The lane's key in the set (`baseline`, `replica2`, `fresh-candidate`, `dryrun`, …). */
  readonly key: string;
  readonly name: string;
  readonly version: LaneVersion;
  readonly image: string;
  readonly stateDir: string;
  readonly role: LaneRole;
  /** Where the directory comes from when the lane is restarted: a pristine copy, or empty. */
  readonly restoreFrom: string | 'empty';
  /** Compared lanes follow the set's mode; the DRY_RUN check lane is always strict. */
  readonly alwaysDryRun?: boolean;
}

export type StartedLanes = Map<string, ReadyLane & { mode: LaneMode }>;

/** Which shadow mode a lane may run in: `sandbox` (commits to its copy) or strict `dry_run`. */
export type ShadowMode = Extract<LaneMode, 'sandbox' | 'dry_run'>;

export interface StartShadowLanesOptions {
  readonly plans: readonly ShadowLanePlan[];
  readonly mode: ShadowMode;
  readonly lanes: LaneTracker;
  readonly deploymentId: string;
  readonly readyTimeoutMs: number;
}

function laneMode(plan: ShadowLanePlan, mode: ShadowMode): ShadowMode {
  return plan.alwaysDryRun ? 'dry_run' : mode;
}

/** Start lanes in parallel (each start waits on its own readiness, so the wall time is the slowest). */
export async function startLanes(options: StartShadowLanesOptions, plans = options.plans): Promise<StartedLanes> {
  await Promise.all(plans.filter((plan) => plan.restoreFrom === 'empty').map((plan) => mkdir(plan.stateDir, { recursive: true })));
  // allSettled: a lane that fails must not leave the others still starting while the step
  // removes the set (a start that completes after its removal would outlive the run).
  const settled = await Promise.allSettled(
    plans.map(async (plan) => {
      const mode = laneMode(plan, options.mode);
      const lane = await options.lanes.start(
        { name: plan.name, image: plan.image, stateDir: plan.stateDir, mode, role: plan.role, deploymentId: options.deploymentId },
        { readyTimeoutMs: options.readyTimeoutMs },
      );
      return [plan.key, { ...lane, mode }] as const;
    }),
  );
  const failed = settled.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return new Map(settled.map((outcome) => (outcome as PromiseFulfilledResult<readonly [string, ReadyLane & { mode: LaneMode }]>).value));
}

/** What a lane says it is (`/version` `mode`); a worker older than modes says nothing. */
export async function reportedMode(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${url}/version`, { signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as { mode?: unknown };
    return typeof body.mode === 'string' ? body.mode : undefined;
  } catch {
    return undefined;
  }
}

/** Pure: the lanes asked to sandbox that did not say so, and the reason to give. */
export function cannotSandbox(
  plans: readonly ShadowLanePlan[],
  reported: ReadonlyMap<string, string | undefined>,
): { keys: string[]; reason: string } | undefined {
  const failing = plans.filter((plan) => !plan.alwaysDryRun && reported.get(plan.key) !== 'sandbox');
  if (failing.length === 0) return undefined;
  const versions = [...new Set(failing.map((plan) => plan.version))];
  const said = [...new Set(failing.map((plan) => reported.get(plan.key) ?? 'no mode'))].join(', ');
  return {
    keys: failing.map((plan) => plan.key),
    reason: `${versions.join(' and ')} cannot sandbox (/version says ${said}): compared in strict DRY_RUN`,
  };
}

/**
 * Start the set in `mode`; when sandboxing, check each lane's `/version` right after it started.
 * A lane that does not report `sandbox` (a worker older than the sandbox ignores WVO_SANDBOX and
 * runs LIVE on its copy) makes the whole comparison strict DRY_RUN: every compared lane is
 * removed, its directory restored (pristine copy, or emptied), and started again in `dry_run`.
 */
export async function startShadowLanes(
  options: StartShadowLanesOptions,
  say: (message: string) => void,
): Promise<{ lanes: StartedLanes; mode: ShadowMode; reason?: string }> {
  const lanes = await startLanes(options);
  if (options.mode === 'dry_run') return { lanes, mode: 'dry_run' };
  const reported = new Map(await Promise.all([...lanes].map(async ([key, lane]) => [key, await reportedMode(lane.url)] as const)));
  const refused = cannotSandbox(options.plans, reported);
  if (!refused) return { lanes, mode: 'sandbox' };
  say(refused.reason);
  const compared = options.plans.filter((plan) => !plan.alwaysDryRun);
  await options.lanes.remove(compared.map((plan) => plan.name));
  await Promise.all(compared.map((plan) => restore(plan)));
  const restarted = await startLanes({ ...options, mode: 'dry_run' }, compared);
  for (const [key, lane] of restarted) lanes.set(key, lane);
  return { lanes, mode: 'dry_run', reason: refused.reason };
}

async function restore(plan: ShadowLanePlan): Promise<void> {
  await rm(plan.stateDir, { recursive: true, force: true });
  if (plan.restoreFrom === 'empty') await mkdir(plan.stateDir, { recursive: true });
  else await cp(plan.restoreFrom, plan.stateDir, { recursive: true });
}
