import { classify, DEFAULT_THRESHOLDS, diffJson, IS_ERROR_PATH, isReported, learnNoise, normalise, type GroupableDiff, type Thresholds } from '../shadow/index.js';
import type { LiveEntry } from './journal-client.js';

/** One lane's answer to a replayed entry. */
export interface ReplayOutcome {
  readonly result: unknown;
  readonly isError: boolean;
  /** The lane's `_meta["wvo/replay"]`: its answer digest, whether it matches live's, replay mismatches. */
  readonly meta: { answer_sha256?: string | null; answer_matches?: boolean; mismatches?: readonly unknown[] } | undefined;
}

export interface EntryComparison {
  readonly diffs: GroupableDiff[];
  readonly reported: number;
  /** The replica's answer differs from live's (digest): this entry is noise for the baseline itself. */
  readonly baselineNoisy: boolean;
}

const NO_NOISE = learnNoise([]);

/**
 * Pure: the candidate's answer against the baseline replica's, as the shadow compares (normalised,
 * diffed by JSON path, classified with the shadow's thresholds). The noise sample is the live
 * answer itself, known by its digest: where the replica did not reproduce it (its `_meta` says
 * `answer_matches: false`, or its replay had id/run mismatches), the baseline is not
 * deterministic at this entry and the candidate's differences there are noise, not regressions.
 */
export function compareEntry(entry: LiveEntry, replica: ReplayOutcome, candidate: ReplayOutcome, thresholds: Thresholds = DEFAULT_THRESHOLDS): EntryComparison {
  const baselineNoisy = entry.answer_sha256 !== null && (replica.meta?.answer_matches === false || (replica.meta?.mismatches?.length ?? 0) > 0);
  const context = { tool: entry.tool, call_index: entry.seq, call_name: `#${entry.seq} ${entry.tool}` };
  const verdictFor = (classification: { verdict: GroupableDiff['verdict']; reason: string }) =>
    baselineNoisy
      ? { verdict: 'noise' as const, reported: false, reason: `the baseline replica's answer also differs from live's here (${classification.reason})` }
      : { ...classification, reported: isReported(classification.verdict) };
  const diffs: GroupableDiff[] = [];
  if (replica.isError !== candidate.isError) {
    diffs.push({
      ...context,
      path: IS_ERROR_PATH,
      kind: 'changed',
      baseline: replica.isError,
      candidate: candidate.isError,
      ...verdictFor({ verdict: 'regression', reason: `the candidate ${candidate.isError ? 'fails' : 'succeeds'} where the baseline ${replica.isError ? 'fails' : 'succeeds'}` }),
    });
  }
  for (const diff of diffJson(normalise(replica.result), normalise(candidate.result))) {
    diffs.push({
      ...context,
      path: diff.path,
      kind: diff.kind,
      ...(diff.kind === 'added' ? {} : { baseline: diff.before }),
      ...(diff.kind === 'removed' ? {} : { candidate: diff.after }),
      ...verdictFor(classify(diff, NO_NOISE, thresholds)),
    });
  }
  return { diffs, reported: diffs.filter((diff) => diff.reported).length, baselineNoisy };
}
