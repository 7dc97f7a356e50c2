import { systemClock, type Clock } from '../../../common/src/clock.js';
import { coverageOf } from './coverage.js';
import { diffJson } from './differ.js';
import { groupDiffs } from './grouping.js';
import { valueAtPath, type PathKey } from './json-path.js';
import { classify, isReported, learnNoise, type Classification, type NoiseIndex } from './noise-model.js';
import { normalise } from './normalise.js';
import {
  IS_ERROR_PATH,
  LANES,
  ShadowResultSchema,
  shadowTotals,
  type Lane,
  type NoiseModel,
  type ShadowCall,
  type ShadowDiff,
  type ShadowResult,
} from './shadow-result.js';
import { callLabel, DEFAULT_READ_ONLY_REPEATS, type Suite } from './suite.js';
import { runSuite, type CallOutcome, type SuiteProgress, type SuiteRun } from './suite-runner.js';
import { resolveThresholds, type PartialThresholds, type Thresholds } from './thresholds.js';

export type ShadowProgress = SuiteProgress<string>;

/** Everything one shadow comparison needs; the harness, the CLI and the API build this. */
export interface RunShadowOptions {
  /** MCP endpoints of the three DRY_RUN lanes, all started on copies of the same snapshot. */
  readonly lanes: Readonly<Record<Lane, string>>;
  /** More replica lanes (same image as the baseline, own snapshot copies): more noise samples. */
  readonly replicas?: readonly string[];
  readonly suite: Suite;
  /** Names the suite in errors (its file, or `default suite`). */
  readonly suiteSource?: string;
  /** Override the suite's thresholds (which override DEFAULT_THRESHOLDS) field by field. */
  readonly thresholds?: PartialThresholds;
  /** Repeats of each `read_only` call on the baseline and replicas (default: the suite's, else 1). */
  readonly readOnlyRepeats?: number;
  readonly callTimeoutMs?: number;
  readonly onProgress?: (event: ShadowProgress) => void;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  /**
   * The fresh-state pass: lanes of the same three versions started on EMPTY states (each version's
   * own migrations made them). The suite runs there too, beside the snapshot pass; its calls follow
   * the snapshot pass's in the result, named `fresh: <call>` with `pass: 'fresh'`, diffed, grouped
   * and counted the same way (one shape, one count).
   */
  readonly fresh?: Readonly<Record<Lane, string>>;
  /** Recorded as shadow.json `lane_mode`. */
  readonly laneMode?: ShadowResult['lane_mode'];
}

/** The name prefix of the fresh-state pass's calls. */
export const FRESH_PASS_PREFIX = 'fresh: ';

/** `replica2`, `replica3`, …: the names extra replica lanes run under. */
export function extraReplicaNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `replica${i + 2}`);
}

/** Drive the lanes through the suite and classify every difference. */
export async function runShadow(options: RunShadowOptions): Promise<ShadowResult> {
  const clock = options.clock ?? systemClock;
  // Validate thresholds before any lane is touched: a typo should not cost a suite run.
  const thresholds = resolveThresholds(options.suite.thresholds, options.thresholds);
  const extras = Object.fromEntries(extraReplicaNames(options.replicas?.length ?? 0).map((name, i) => [name, options.replicas![i]!]));
  const lanes: Record<string, string> = { ...pickLanes(options.lanes), ...extras };
  const startedAt = new Date(clock.now());
  const pass = (passLanes: Record<string, string>, onProgress: RunShadowOptions['onProgress']) =>
    runSuite<string>({
      lanes: passLanes,
      suite: options.suite,
      suiteSource: options.suiteSource ?? 'default suite',
      referenceLane: 'baseline',
      callTimeoutMs: options.callTimeoutMs,
      onProgress,
      clock,
      signal: options.signal,
      repeatReadOnly: {
        lanes: Object.keys(passLanes).filter((lane) => lane !== 'candidate'),
        repeats: options.readOnlyRepeats ?? options.suite.read_only_repeats ?? DEFAULT_READ_ONLY_REPEATS,
      },
    });
  const freshProgress = (event: ShadowProgress) =>
    options.onProgress?.(event.type === 'call' ? { ...event, name: `${FRESH_PASS_PREFIX}${event.name}` } : event);
  // The passes run side by side: their lanes are separate, and each pass keeps its own call order.
  const [run, fresh] = await Promise.all([
    pass(lanes, options.onProgress),
    options.fresh ? pass(pickLanes(options.fresh), freshProgress) : undefined,
  ]);
  return compareSuiteRun((fresh ? appendFreshPass(run, fresh) : run) as SuiteRun<Lane>, {
    suite: options.suite,
    thresholds,
    lanes: options.lanes,
    ...(options.replicas?.length ? { extraReplicas: extras } : {}),
    ...(fresh ? { freshFrom: run.calls.length } : {}),
    ...(options.laneMode ? { laneMode: options.laneMode } : {}),
    startedAt,
    finishedAt: new Date(clock.now()),
  });
}

/** One run of both passes: the fresh pass's calls after the snapshot pass's, renamed `fresh: …`. */
export function appendFreshPass<L extends string>(snapshot: SuiteRun<L>, fresh: SuiteRun<L>): SuiteRun<L> {
  const offset = snapshot.calls.length;
  return {
    tools: snapshot.tools,
    calls: [
      ...snapshot.calls,
      ...fresh.calls.map((entry) => ({
        ...entry,
        index: entry.index + offset,
        call: { ...entry.call, name: `${FRESH_PASS_PREFIX}${callLabel(entry.call, entry.index)}` },
      })),
    ],
  };
}

export interface CompareOptions {
  readonly suite: Suite;
  readonly thresholds: Thresholds;
  readonly lanes: Readonly<Record<Lane, string>>;
  /** Extra replica lanes in the run (name → URL); their answers are noise samples. */
  readonly extraReplicas?: Readonly<Record<string, string>>;
  /** Calls from this index on are the fresh-state pass's (see appendFreshPass); absent: one pass. */
  readonly freshFrom?: number;
  readonly laneMode?: ShadowResult['lane_mode'];
  readonly startedAt: Date;
  readonly finishedAt: Date;
}

/** A sample: an answer of the baseline's code to the same call (a replica lane, or a repeat). */
interface Sample {
  readonly lane: string;
  readonly outcome: CallOutcome;
}

/**
 * The pure half of runShadow: normalise each lane's answers with the suite's ignore rules, diff
 * baseline → candidate and baseline → every sample by JSON path, learn the noise per tool from
 * all samples, classify, group.
 */
export function compareSuiteRun(run: SuiteRun<Lane>, options: CompareOptions): ShadowResult {
  const { suite, thresholds } = options;
  const prepared = run.calls.map(({ index, call, arguments: args, outcomes, repeats }) => {
    const ignore = [...(suite.ignore ?? []), ...(call.ignore ?? [])];
    const all = outcomes as Readonly<Record<string, CallOutcome>>;
    const samples: Sample[] = [
      ...Object.keys(all).filter((lane) => lane !== 'baseline' && lane !== 'candidate').map((lane) => ({ lane, outcome: all[lane]! })),
      ...Object.entries((repeats ?? {}) as Record<string, readonly CallOutcome[]>)
        .filter(([lane]) => lane !== 'candidate')
        .flatMap(([lane, list]) => list.map((outcome) => ({ lane: `${lane} (repeat)`, outcome }))),
    ];
    const baseline = normalise(outcomes.baseline.result, ignore);
    return {
      index,
      call,
      args,
      outcomes,
      samples,
      normalised: { baseline, replica: normalise(outcomes.replica.result, ignore), candidate: normalise(outcomes.candidate.result, ignore) },
      raw: diffJson(baseline, normalise(outcomes.candidate.result, ignore)),
      noise: samples.flatMap((sample) => diffJson(baseline, normalise(sample.outcome.result, ignore))),
    };
  });

  const noiseByTool = new Map<string, NoiseIndex>();
  for (const tool of new Set(prepared.map((entry) => entry.call.tool))) {
    noiseByTool.set(tool, learnNoise(prepared.filter((entry) => entry.call.tool === tool).flatMap((entry) => entry.noise)));
  }

  const diffs: ShadowDiff[] = [];
  const calls: ShadowCall[] = [];
  for (const entry of prepared) {
    const { index, call, args, outcomes, normalised } = entry;
    const context = { tool: call.tool, call_index: index, call_name: callLabel(call, index), arguments: args };
    const own: ShadowDiff[] = [];

    const flags = { baseline: outcomes.baseline.isError, replica: outcomes.replica.isError, candidate: outcomes.candidate.isError };
    if (flags.baseline !== flags.candidate) {
      const flipped = entry.samples.filter((sample) => sample.outcome.isError !== flags.baseline).map((sample) => sample.lane);
      const verdict: Classification =
        flipped.length > 0
          ? { verdict: 'noise', reason: `isError also differs between the baseline and ${flipped.join(', ')}` }
          : { verdict: 'regression', reason: `the candidate ${flags.candidate ? 'fails' : 'succeeds'} where the baseline ${flags.baseline ? 'fails' : 'succeeds'}` };
      own.push({ ...context, path: IS_ERROR_PATH, kind: 'changed', ...flags, ...fromClassification(verdict) });
    }

    const noise = noiseByTool.get(call.tool)!;
    for (const diff of entry.raw) {
      own.push({
        ...context,
        path: diff.path,
        kind: diff.kind,
        ...present('baseline', diff.kind !== 'added', diff.before),
        ...lookup('replica', normalised.replica, diff.keys),
        ...present('candidate', diff.kind !== 'removed', diff.after),
        ...fromClassification(classify(diff, noise, thresholds)),
      });
    }

    const reported = own.filter((diff) => diff.reported).length;
    calls.push({
      index,
      ...(options.freshFrom === undefined ? {} : { pass: index >= options.freshFrom ? ('fresh' as const) : ('snapshot' as const) }),
      name: context.call_name,
      tool: call.tool,
      arguments: args,
      is_error: flags,
      duration_ms: {
        baseline: outcomes.baseline.durationMs,
        replica: outcomes.replica.durationMs,
        candidate: outcomes.candidate.durationMs,
      },
      // Raw answers only where something differed: they are what a reviewer opens next.
      results: own.length > 0 ? { baseline: outcomes.baseline.result, replica: outcomes.replica.result, candidate: outcomes.candidate.result } : {},
      reported,
      cancelled: own.length - reported,
    });
    diffs.push(...own);
  }

  const errorAnswers = new Map(calls.map((call) => [call.index, call.is_error.baseline || call.is_error.candidate]));
  const groups = groupDiffs(diffs, errorAnswers);
  const coverage = coverageOf(
    prepared.map((entry) => ({ index: entry.index, name: callLabel(entry.call, entry.index), tool: entry.call.tool, outcomes: entry.outcomes })),
  );
  const repeats = prepared.reduce((sum, entry) => sum + entry.samples.filter((s) => s.lane.endsWith('(repeat)')).length, 0);
  const noise: NoiseModel = {
    lanes: ['replica', ...Object.keys(options.extraReplicas ?? {})],
    repeats,
    samples: prepared.reduce((sum, entry) => sum + entry.samples.length, 0),
    paths: [...noiseByTool].flatMap(([tool, index]) =>
      [...index].map(([path, learned]) => ({
        tool,
        path,
        kinds: [...learned.kinds],
        ...(learned.magnitude > 0 ? { magnitude: learned.magnitude } : {}),
        seen: learned.seen,
      })),
    ),
  };
  const body = {
    version: 2 as const,
    started_at: options.startedAt.toISOString(),
    finished_at: options.finishedAt.toISOString(),
    lanes: pickLanes(options.lanes),
    ...(options.extraReplicas && Object.keys(options.extraReplicas).length > 0 ? { extra_replicas: { ...options.extraReplicas } } : {}),
    thresholds,
    ...(options.laneMode ? { lane_mode: options.laneMode } : {}),
    noise,
    calls,
    diffs,
    groups,
    coverage,
  };
  return ShadowResultSchema.parse({ ...body, totals: shadowTotals(body) });
}

function fromClassification(classification: Classification): Pick<ShadowDiff, 'verdict' | 'reported' | 'reason'> {
  return { ...classification, reported: isReported(classification.verdict) };
}

function present<K extends string>(key: K, exists: boolean, value: unknown): Partial<Record<K, unknown>> {
  return exists ? ({ [key]: value } as Record<K, unknown>) : {};
}

/** The replica's value at a baseline/candidate path, absent when the replica has no such path. */
function lookup<K extends string>(key: K, root: unknown, keys: readonly PathKey[]): Partial<Record<K, unknown>> {
  const at = valueAtPath(root, keys);
  return at.found ? ({ [key]: at.value } as Record<K, unknown>) : {};
}

function pickLanes(lanes: Readonly<Record<Lane, string>>): Record<Lane, string> {
  return { baseline: lanes.baseline, replica: lanes.replica, candidate: lanes.candidate };
}

