import type { Clock } from '../../../../common/src/clock.js';
import type { LaneRole } from '../../runtime/index.js';
import { fetchToolSurface, runShadow, runSuite, withStateDiff, type RawSurface, type ShadowResult, type Suite } from '../../shadow/index.js';
import type { SnapshotManifest } from '../../state/index.js';
import { checkDryRunCopies, type DryRunCopy } from '../dry-run-integrity.js';
import { startShadowLanes, type ShadowLanePlan, type ShadowMode, type StartedLanes } from '../shadow-lanes.js';
import { diffShadowState } from '../shadow-state.js';
import type { LaneImages } from './build.js';
import type { LaneTracker } from './lane-tracker.js';
import type { FreshDirs, RunLayout, SnapshotCopies } from './layout.js';
import type { UpgradeStep } from './step.js';

const ROLE = {
  baseline: 'shadow-baseline',
  replica: 'shadow-replica',
  candidate: 'shadow-candidate',
} as const satisfies Record<string, LaneRole>;

export interface ShadowInput {
  id: string;
  suite: Suite;
  suiteSource: string;
  images: LaneImages;
  copies: SnapshotCopies;
  /** What each copy held when made: strict DRY_RUN copies are re-hashed against it. */
  manifest: SnapshotManifest;
  fresh: FreshDirs;
  /** --strict-dry-run: every lane in strict DRY_RUN, whether or not it could sandbox. */
  strictDryRun: boolean;
  lanes: LaneTracker;
  laneName: RunLayout['laneName'];
  readyTimeoutMs: number;
  clock: Clock;
  signal?: AbortSignal;
}

export interface ShadowOutput {
  result: ShadowResult;
  /** How the compared lanes ran: schema-compat replays the suite the same way. */
  mode: ShadowMode;
  /** What baseline and candidate advertised (the tool-surface gate compares them). */
  surfaces: { baseline: RawSurface; candidate: RawSurface };
}

/** Pure: every lane of the shadow, the directory it gets and what restores it. */
export function shadowLanePlans(input: Pick<ShadowInput, 'images' | 'copies' | 'fresh' | 'laneName'>): ShadowLanePlan[] {
  const { images, copies, fresh, laneName } = input;
  const lane = (key: string, version: 'baseline' | 'candidate', role: LaneRole, stateDir: string, restoreFrom: string, extra = {}) => ({
    key,
    name: laneName(key),
    version,
    image: version === 'baseline' ? images.baselineImage : images.candidateImage,
    stateDir,
    role,
    restoreFrom,
    ...extra,
  });
  return [
    lane('baseline', 'baseline', ROLE.baseline, copies.baseline, copies.pristine),
    lane('replica', 'baseline', ROLE.replica, copies.replica, copies.pristine),
    lane('replica2', 'baseline', ROLE.replica, copies.replica2, copies.pristine),
    lane('candidate', 'candidate', ROLE.candidate, copies.candidate, copies.pristine),
    lane('fresh-baseline', 'baseline', ROLE.baseline, fresh.baseline, 'empty'),
    lane('fresh-replica', 'baseline', ROLE.replica, fresh.replica, 'empty'),
    lane('fresh-candidate', 'candidate', ROLE.candidate, fresh.candidate, 'empty'),
    // The candidate's DRY_RUN contract, always checked: its copy is re-hashed after the suite.
    lane('dryrun', 'candidate', ROLE.candidate, copies.dryrun, copies.pristine, { alwaysDryRun: true }),
  ];
}

/**
 * The suite against sandbox lanes (each commits to its own snapshot copy, so later calls see
 * earlier writes): baseline, two replicas (noise) and candidate on the snapshot, and baseline,
 * replica and candidate on empty states (the fresh-state pass). Beside them the candidate runs
 * the suite once in strict DRY_RUN. When stopped, strict DRY_RUN copies are re-hashed (a write is
 * a hard failure) and the sandbox lanes' databases are diffed. A lane that cannot sandbox turns
 * the comparison into strict DRY_RUN (shadow-lanes.ts); `--strict-dry-run` asks for it.
 */
export const shadowStep: UpgradeStep<ShadowInput, ShadowOutput> = {
  name: 'shadow',
  async run(input, say) {
    const plans = shadowLanePlans(input);
    let started: StartedLanes | undefined;
    let result: ShadowResult;
    let mode: ShadowMode;
    let reason: string | undefined;
    let dryRunCheck: { calls: number; errors: number };
    let surfaces: ShadowOutput['surfaces'];
    // Where the step's time goes (lanes start in parallel; more lanes cost most at start and stop).
    const timings: Record<string, number> = {};
    let mark = input.clock.now();
    const lap = (name: string) => {
      const now = input.clock.now();
      timings[name] = now - mark;
      mark = now;
    };
    try {
      say(`starting ${plans.length} lanes (${input.strictDryRun ? 'strict DRY_RUN (--strict-dry-run)' : 'sandbox'}; the candidate also in strict DRY_RUN)`);
      ({ lanes: started, mode, reason } = await startShadowLanes(
        {
          plans,
          mode: input.strictDryRun ? 'dry_run' : 'sandbox',
          lanes: input.lanes,
          deploymentId: input.id,
          readyTimeoutMs: input.readyTimeoutMs,
        },
        say,
      ));
      if (input.strictDryRun) reason = 'strict DRY_RUN asked for (--strict-dry-run)';
      lap('start');
      const url = (key: string) => started!.get(key)!.url;
      const [shadow, dryRun] = await Promise.all([
        runShadow({
          lanes: { baseline: url('baseline'), replica: url('replica'), candidate: url('candidate') },
          replicas: [url('replica2')],
          fresh: { baseline: url('fresh-baseline'), replica: url('fresh-replica'), candidate: url('fresh-candidate') },
          suite: input.suite,
          suiteSource: input.suiteSource,
          // A sandbox's clock moves with every call: a repeat on the baseline alone would shift its
          // timestamps against the candidate's. Its lanes are deterministic; replicas measure the rest.
          ...(mode === 'sandbox' ? { readOnlyRepeats: 0 } : {}),
          laneMode: { mode, ...(reason ? { reason } : {}) },
          clock: input.clock,
          ...(input.signal ? { signal: input.signal } : {}),
          onProgress: (event) => {
            if (event.type === 'call') say(`call ${event.index + 1}/${event.total}: ${event.name}`);
          },
        }),
        // Answers are not compared (they differ from a sandbox's by design); a crash fails the step.
        runSuite({
          lanes: { dryrun: url('dryrun') },
          suite: input.suite,
          suiteSource: input.suiteSource,
          clock: input.clock,
          ...(input.signal ? { signal: input.signal } : {}),
        }),
      ]);
      lap('suite');
      // Read while the lanes run (after the suite: listing changes nothing a diff would see).
      const [baselineSurface, candidateSurface] = await Promise.all([fetchToolSurface(url('baseline')), fetchToolSurface(url('candidate'))]);
      surfaces = { baseline: baselineSurface, candidate: candidateSurface };
      result = shadow;
      dryRunCheck = { calls: dryRun.calls.length, errors: dryRun.calls.filter((call) => call.outcomes.dryrun.isError).length };
    } finally {
      // Stopped before anything reads the copies: each worker checkpoints its WAL as it exits.
      await input.lanes.remove(plans.map((plan) => plan.name));
      lap('stop');
    }

    const strict = plans.filter((plan) => plan.alwaysDryRun || mode === 'dry_run');
    const integrity = await checkDryRunCopies(
      strict.map((plan): DryRunCopy => ({
        lane: plan.name,
        stateDir: plan.stateDir,
        manifest: plan.restoreFrom === 'empty' ? { files: [] } : input.manifest,
      })),
    );
    if (mode === 'sandbox') {
      result = withStateDiff(
        result,
        diffShadowState({
          manifest: input.manifest,
          snapshot: { baseline: input.copies.baseline, replicas: [input.copies.replica, input.copies.replica2], candidate: input.copies.candidate },
          fresh: { baseline: input.fresh.baseline, replicas: [input.fresh.replica], candidate: input.fresh.candidate },
        }),
      );
    }
    lap('verify_and_diff');
    const { totals } = result;
    const passed = (pass: string) => result.calls.filter((call) => (call.pass ?? 'snapshot') === pass).length;
    return {
      status: totals.count > 0 ? 'warning' : 'ok',
      detail: {
        mode,
        ...(reason ? { mode_reason: reason } : {}),
        calls: { snapshot: passed('snapshot'), fresh: passed('fresh') },
        count: totals.count,
        answer_groups: totals.groups_reported,
        state_differences: mode === 'sandbox' ? totals.state_reported : 'not compared (strict DRY_RUN changes nothing)',
        reported: totals.reported,
        cancelled: totals.cancelled,
        tools: [...new Set(result.groups.filter((g) => g.reported).map((g) => g.tool))],
        coverage: coverageSummary(result),
        dry_run_check: { ...dryRunCheck!, copies_verified: integrity.checked.length },
        timings_ms: timings,
      },
      output: { result, mode, surfaces: surfaces! },
    };
  },
};

/** One readable line per tool: its success and error paths (e.g. `verify: success, error WVO_TASK_STATE`). */
function coverageSummary(result: ShadowResult): Record<string, string> {
  const lines: Record<string, string> = {};
  for (const tool of result.coverage.tools) {
    lines[tool.tool] = tool.paths.map((path) => (path.outcome === 'success' ? 'success' : `error ${path.code ?? ''}`.trim())).join(', ');
  }
  if (result.coverage.executor_gaps.length > 0) lines['executor gaps'] = String(result.coverage.executor_gaps.length);
  return lines;
}
