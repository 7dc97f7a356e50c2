import { systemClock, type Clock } from '../../../common/src/clock.js';
import { diffJson } from './differ.js';
import { valueAtPath, type PathKey } from './json-path.js';
import { classify, isReported, learnNoise, type Classification, type NoiseIndex } from './noise-model.js';
import { normalise } from './normalise.js';
import {
  IS_ERROR_PATH,
  LANES,
  ShadowResultSchema,
  type Lane,
  type ShadowCall,
  type ShadowDiff,
  type ShadowResult,
} from './shadow-result.js';
import { callLabel, type Suite } from './suite.js';
import { runSuite, type SuiteProgress, type SuiteRun } from './suite-runner.js';
import { resolveThresholds, type PartialThresholds, type Thresholds } from './thresholds.js';

export type ShadowProgress = SuiteProgress<Lane>;

/** Everything one shadow comparison needs; the harness, the CLI and the API build this. */
export interface RunShadowOptions {
  /** MCP endpoints of the three DRY_RUN lanes, all started on copies of the same snapshot. */
  readonly lanes: Readonly<Record<Lane, string>>;
  readonly suite: Suite;
  /** Names the suite in errors (its file, or `default suite`). */
  readonly suiteSource?: string;
  /** Override the suite's thresholds (which override DEFAULT_THRESHOLDS) field by field. */
  readonly thresholds?: PartialThresholds;
  readonly callTimeoutMs?: number;
  readonly onProgress?: (event: ShadowProgress) => void;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
}

/** Drive the three lanes through the suite and classify every difference. */
export async function runShadow(options: RunShadowOptions): Promise<ShadowResult> {
  const clock = options.clock ?? systemClock;
  // Validate thresholds before any lane is touched: a typo should not cost a suite run.
  const thresholds = resolveThresholds(options.suite.thresholds, options.thresholds);
  const startedAt = new Date(clock.now());
  const run = await runSuite<Lane>({
    lanes: pickLanes(options.lanes),
    suite: options.suite,
    suiteSource: options.suiteSource ?? 'default suite',
    referenceLane: 'baseline',
    callTimeoutMs: options.callTimeoutMs,
    onProgress: options.onProgress,
    clock,
    signal: options.signal,
  });
  return compareSuiteRun(run, {
    suite: options.suite,
    thresholds,
    lanes: options.lanes,
    startedAt,
    finishedAt: new Date(clock.now()),
  });
}

export interface CompareOptions {
  readonly suite: Suite;
  readonly thresholds: Thresholds;
  readonly lanes: Readonly<Record<Lane, string>>;
  readonly startedAt: Date;
  readonly finishedAt: Date;
}

/**
 * The pure half of runShadow: normalise each lane's answers with the suite's ignore rules, diff
 * baseline → candidate and baseline → replica by JSON path, learn the noise per tool, classify.
 */
export function compareSuiteRun(run: SuiteRun<Lane>, options: CompareOptions): ShadowResult {
  const { suite, thresholds } = options;
  const prepared = run.calls.map(({ index, call, arguments: args, outcomes }) => {
    const ignore = [...(suite.ignore ?? []), ...(call.ignore ?? [])];
    const [baseline, replica, candidate] = LANES.map((lane) => normalise(outcomes[lane].result, ignore)) as [
      unknown,
      unknown,
      unknown,
    ];
    return {
      index,
      call,
      args,
      outcomes,
      normalised: { baseline, replica, candidate },
      raw: diffJson(baseline, candidate),
      noise: diffJson(baseline, replica),
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
      const verdict: Classification =
        flags.baseline !== flags.replica
          ? { verdict: 'noise', reason: 'isError also differs between baseline and replica' }
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

  const reported = diffs.filter((diff) => diff.reported).length;
  return ShadowResultSchema.parse({
    version: 1,
    started_at: options.startedAt.toISOString(),
    finished_at: options.finishedAt.toISOString(),
    lanes: pickLanes(options.lanes),
    thresholds,
    calls,
    diffs,
    totals: { calls: calls.length, diffs: diffs.length, reported, cancelled: diffs.length - reported },
  });
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
