import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { z } from 'zod';
import { SkippedCallSchema } from './safe-calls.js';
import { SurfaceReportSchema } from './tool-surface-types.js';
import { WvoError } from '../../../common/src/errors.js';
import { writeFileAtomic } from '../../../common/src/atomic-write.js';
import { StateSectionSchema, type StateSection } from '../state/index.js';
import { CoverageSchema, coverageOf } from './coverage.js';
import { DIFF_KINDS } from './differ.js';
import { groupDiffs, IS_ERROR_PATH, ShadowGroupSchema } from './grouping.js';
import { VERDICTS } from './noise-model.js';
import { ThresholdsSchema } from './thresholds.js';
import { shadowErrors } from './errors.js';

export { IS_ERROR_PATH };

export const LANES = ['baseline', 'replica', 'candidate'] as const;
export type Lane = (typeof LANES)[number];

const perLane = <T extends z.ZodType>(schema: T) =>
  z.strictObject({ baseline: schema, replica: schema, candidate: schema });

const IsoTimestamp = z.iso.datetime({ offset: true });

/** One difference, with all three lanes' values at its path (absent = the path does not exist there). */
export const ShadowDiffSchema = z.strictObject({
  tool: z.string(),
  call_index: z.number().int().min(0),
  call_name: z.string(),
  arguments: z.record(z.string(), z.unknown()),
  /** A JSON path into the call's parsed result (`$.queue.ready[0].id`), or `isError`. */
  path: z.string(),
  /** Baseline → candidate. */
  kind: z.enum(DIFF_KINDS),
  baseline: z.unknown().optional(),
  replica: z.unknown().optional(),
  candidate: z.unknown().optional(),
  verdict: z.enum(VERDICTS),
  reported: z.boolean(),
  reason: z.string(),
});

/**
 * Which run of the suite a call belongs to: on the snapshot copies, or on an empty state each
 * version created with its own migrations (the fresh-state pass, where defaults are read).
 */
export const SHADOW_PASSES = ['snapshot', 'fresh'] as const;
export type ShadowPass = (typeof SHADOW_PASSES)[number];

/** How the lanes treated their copies: `sandbox` committed (later calls see earlier writes), `dry_run` rolled back. */
export const SHADOW_LANE_MODES = ['sandbox', 'dry_run'] as const;

export const ShadowCallSchema = z.strictObject({
  index: z.number().int().min(0),
  /** Absent in files written before passes existed: `snapshot`. */
  pass: z.enum(SHADOW_PASSES).optional(),
  name: z.string(),
  tool: z.string(),
  arguments: z.record(z.string(), z.unknown()),
  is_error: perLane(z.boolean()),
  duration_ms: perLane(z.number().min(0)),
  /** Raw (not normalised) parsed results, for the report's side-by-side view. */
  results: perLane(z.unknown()).partial(),
  reported: z.number().int().min(0),
  cancelled: z.number().int().min(0),
});

const TotalsV1 = {
  calls: z.number().int().min(0),
  /** Raw diffs, each path of each call. */
  diffs: z.number().int().min(0),
  reported: z.number().int().min(0),
  cancelled: z.number().int().min(0),
};

/** shadow.json as the first version wrote it: raw diffs only. Still read (and upgraded). */
export const ShadowResultV1Schema = z.strictObject({
  version: z.literal(1),
  started_at: IsoTimestamp,
  finished_at: IsoTimestamp,
  lanes: perLane(z.string()),
  thresholds: ThresholdsSchema,
  calls: z.array(ShadowCallSchema),
  diffs: z.array(ShadowDiffSchema),
  totals: z.strictObject(TotalsV1),
});

/** What the noise was learned from and what it taught, per tool and generalised path. */
export const NoiseModelSchema = z.strictObject({
  /** Lanes whose answers were samples (the replica lanes). */
  lanes: z.array(z.string()),
  /** Repeated answers to read-only calls used as extra samples. */
  repeats: z.number().int().min(0),
  /** Every sample answer compared with the baseline's (lanes × calls + repeats). */
  samples: z.number().int().min(0),
  paths: z.array(
    z.strictObject({
      tool: z.string(),
      path: z.string(),
      kinds: z.array(z.enum(DIFF_KINDS)),
      /** Largest numeric difference seen (ms for timestamps), when it was numeric. */
      magnitude: z.number().min(0).optional(),
      /** How many sample diffs showed it. */
      seen: z.number().int().min(1),
    }),
  ),
});

export const ShadowResultSchema = z.strictObject({
  version: z.literal(2),
  started_at: IsoTimestamp,
  finished_at: IsoTimestamp,
  lanes: perLane(z.string()),
  /** Replica lanes beyond `lanes.replica` (`replica2` → URL), when the runner started more. */
  extra_replicas: z.record(z.string(), z.string()).optional(),
  thresholds: ThresholdsSchema,
  /** The lanes' mode, and why when it is not the harness's first choice (sandbox). */
  lane_mode: z.strictObject({ mode: z.enum(SHADOW_LANE_MODES), reason: z.string().optional() }).optional(),
  noise: NoiseModelSchema,
  calls: z.array(ShadowCallSchema),
  diffs: z.array(ShadowDiffSchema),
  /** Diffy's grouped view of `diffs`: reported groups first. */
  groups: z.array(ShadowGroupSchema),
  coverage: CoverageSchema,
  /** What baseline and candidate advertise, compared and classified (the tool-surface gate). */
  tool_surface: SurfaceReportSchema.optional(),
  /** Suite calls not run, and why (an app with no shadow mode runs only read-only or safe tools). */
  skipped_calls: z.array(SkippedCallSchema).optional(),
  /** The lanes' databases compared after the suite (the harness adds it with `withStateDiff`). */
  state: StateSectionSchema.optional(),
  totals: z.strictObject({
    ...TotalsV1,
    groups: z.number().int().min(0),
    groups_reported: z.number().int().min(0),
    /** Reported state differences (groups, schema removals and changes); 0 without a state section. */
    state_reported: z.number().int().min(0),
    /**
     * The seed's `count` (upgrade_shadow.json, orchestrator_status `.queue.shadow_diffs.count`):
     * reported answer groups + reported state differences. One logical change counts once however
     * many calls and rows show it; noise, and schema additions (what expand migrations do), never
     * count. Additions in answers do: a client sees them, so a person reviews them.
     */
    count: z.number().int().min(0),
  }),
});

export type ShadowDiff = z.infer<typeof ShadowDiffSchema>;
export type ShadowCall = z.infer<typeof ShadowCallSchema>;
export type ShadowResult = z.infer<typeof ShadowResultSchema>;
export type ShadowResultV1 = z.infer<typeof ShadowResultV1Schema>;
export type NoiseModel = z.infer<typeof NoiseModelSchema>;

/** Totals for a result's diffs, groups and state section (see `totals.count`). */
export function shadowTotals(
  result: Pick<ShadowResult, 'calls' | 'diffs' | 'groups' | 'state'>,
): ShadowResult['totals'] {
  const reported = result.diffs.filter((diff) => diff.reported).length;
  const groupsReported = result.groups.filter((group) => group.reported).length;
  const stateReported = result.state?.reported ?? 0;
  return {
    calls: result.calls.length,
    diffs: result.diffs.length,
    reported,
    cancelled: result.diffs.length - reported,
    groups: result.groups.length,
    groups_reported: groupsReported,
    state_reported: stateReported,
    count: groupsReported + stateReported,
  };
}

/** The result with the lanes' state diff attached and the totals (and so `count`) updated. */
export function withStateDiff(result: ShadowResult, state: StateSection): ShadowResult {
  const next = { ...result, state };
  return ShadowResultSchema.parse({ ...next, totals: shadowTotals(next) });
}

/**
 * A version 1 file as version 2: groups and coverage are derived from what it recorded; the noise
 * model it used (one replica, no record of the paths) is stated as such.
 */
export function upgradeShadowResult(v1: ShadowResultV1): ShadowResult {
  const errorAnswers = new Map(v1.calls.map((call) => [call.index, call.is_error.baseline || call.is_error.candidate]));
  const groups = groupDiffs(v1.diffs, errorAnswers);
  const coverage = coverageOf(
    v1.calls.map((call) => ({
      index: call.index,
      name: call.name,
      tool: call.tool,
      outcomes: Object.fromEntries(LANES.map((lane) => [lane, { result: call.results[lane], isError: call.is_error[lane] }])),
    })),
  );
  const base = { ...v1, version: 2 as const, noise: { lanes: ['replica'], repeats: 0, samples: v1.calls.length, paths: [] }, groups, coverage };
  return ShadowResultSchema.parse({ ...base, totals: shadowTotals(base) });
}

export const SHADOW_JSON = 'shadow.json';

/** Write `<dir>/shadow.json` (temp + rename); returns the file's path. */
export async function writeShadowJson(dir: string, result: ShadowResult): Promise<string> {
  const file = join(dir, SHADOW_JSON);
  await writeFileAtomic(file, JSON.stringify(ShadowResultSchema.parse(result), null, 2) + '\n');
  return file;
}

/** Read shadow.json of either version; a version 1 file comes back upgraded. */
export async function readShadowJson(file: string): Promise<ShadowResult> {
  const any = await readThroughSchema(file, z.discriminatedUnion('version', [ShadowResultSchema, ShadowResultV1Schema]));
  return any.version === 1 ? upgradeShadowResult(any) : any;
}

/** `state/analytics/upgrade_shadow.json`: what the live worker's `orchestrator_status` shows. */
export const UpgradeShadowSummarySchema = z.strictObject({
  /**
   * What `.queue.shadow_diffs.count` shows: reported answer groups + reported state differences
   * (shadow.json `totals.count`; one logical change counts once).
   */
  count: z.number().int().min(0),
  /** The part of `count` from answers (reported groups); absent in older files. */
  answer_groups: z.number().int().min(0).optional(),
  /** The part of `count` from the lanes' databases (reported state differences); absent in older files. */
  state_differences: z.number().int().min(0).optional(),
  /**
   * The part of `count` from a dual-write soak of this upgrade (reported answer groups + the last
   * checkpoint's reported state differences); absent until a soak of this run checkpoints.
   */
  soak_differences: z.number().int().min(0).optional(),
  /** shadow.json, relative to the workspace root, with `/` separators. */
  path: z.string().min(1).refine((path) => !isAbsolute(path) && !path.includes('\\'), 'must be a relative POSIX path'),
  recorded_at: IsoTimestamp,
});

export type UpgradeShadowSummary = z.infer<typeof UpgradeShadowSummarySchema>;

export const UPGRADE_SHADOW_FILE = join('analytics', 'upgrade_shadow.json');

export interface WriteUpgradeShadowOptions {
  /** The state directory (`WVO_STATE_ROOT`); the file goes to `<stateRoot>/analytics/`. */
  readonly stateRoot: string;
  readonly count: number;
  /** The split of `count`, when known (see UpgradeShadowSummarySchema). */
  readonly answerGroups?: number;
  readonly stateDifferences?: number;
  readonly soakDifferences?: number;
  /** Where shadow.json is; stored relative to `relativeTo`. */
  readonly shadowJsonPath: string;
  /** The workspace root the path is relative to. */
  readonly relativeTo: string;
  readonly recordedAt: Date;
}

/** Write the summary atomically so a reader never sees half a file; returns what was written. */
export async function writeUpgradeShadowSummary(options: WriteUpgradeShadowOptions): Promise<UpgradeShadowSummary> {
  const path = relative(options.relativeTo, options.shadowJsonPath).split(sep).join('/');
  const summary = UpgradeShadowSummarySchema.parse({
    count: options.count,
    ...(options.answerGroups === undefined ? {} : { answer_groups: options.answerGroups }),
    ...(options.stateDifferences === undefined ? {} : { state_differences: options.stateDifferences }),
    ...(options.soakDifferences === undefined ? {} : { soak_differences: options.soakDifferences }),
    path,
    recorded_at: options.recordedAt.toISOString(),
  });
  await writeFileAtomic(join(options.stateRoot, UPGRADE_SHADOW_FILE), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

/** The summary, or undefined when no harness run has written one yet. */
export async function readUpgradeShadowSummary(stateRoot: string): Promise<UpgradeShadowSummary | undefined> {
  return readThroughSchema(join(stateRoot, UPGRADE_SHADOW_FILE), UpgradeShadowSummarySchema, { missingOk: true });
}

async function readThroughSchema<T>(file: string, schema: z.ZodType<T>): Promise<T>;
async function readThroughSchema<T>(file: string, schema: z.ZodType<T>, options: { missingOk: true }): Promise<T | undefined>;
async function readThroughSchema<T>(
  file: string,
  schema: z.ZodType<T>,
  options: { missingOk?: boolean } = {},
): Promise<T | undefined> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (error) {
    if (options.missingOk && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw corrupt(file, (error as Error).message, error);
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw corrupt(file, `${issue.path.join('.') || '(root)'}: ${issue.message}`, parsed.error);
}

function corrupt(file: string, message: string, cause: unknown): WvoError {
  return shadowErrors.create('WVO_SHADOW_ARTIFACT_INVALID', `cannot read ${file}: ${message}`, {
    subject: file,
    hint: 'The file is unreadable or was not written by this version of wvo; re-run `wvo upgrade`.',
    cause,
  });
}
