import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { z } from 'zod';
import { WvoError } from '../../../common/src/errors.js';
import { writeFileAtomic } from '../../../common/src/atomic-write.js';
import { DIFF_KINDS } from './differ.js';
import { VERDICTS } from './noise-model.js';
import { ThresholdsSchema } from './thresholds.js';

export const LANES = ['baseline', 'replica', 'candidate'] as const;
export type Lane = (typeof LANES)[number];

const perLane = <T extends z.ZodType>(schema: T) =>
  z.strictObject({ baseline: schema, replica: schema, candidate: schema });

/** The pseudo-path of a diff in the MCP `isError` flag rather than in the result body. */
export const IS_ERROR_PATH = 'isError';

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

export const ShadowCallSchema = z.strictObject({
  index: z.number().int().min(0),
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

export const ShadowResultSchema = z.strictObject({
  version: z.literal(1),
  started_at: IsoTimestamp,
  finished_at: IsoTimestamp,
  lanes: perLane(z.string()),
  thresholds: ThresholdsSchema,
  calls: z.array(ShadowCallSchema),
  diffs: z.array(ShadowDiffSchema),
  totals: z.strictObject({
    calls: z.number().int().min(0),
    diffs: z.number().int().min(0),
    reported: z.number().int().min(0),
    cancelled: z.number().int().min(0),
  }),
});

export type ShadowDiff = z.infer<typeof ShadowDiffSchema>;
export type ShadowCall = z.infer<typeof ShadowCallSchema>;
export type ShadowResult = z.infer<typeof ShadowResultSchema>;

export const SHADOW_JSON = 'shadow.json';

/** Write `<dir>/shadow.json` (temp + rename); returns the file's path. */
export async function writeShadowJson(dir: string, result: ShadowResult): Promise<string> {
  const file = join(dir, SHADOW_JSON);
  await writeFileAtomic(file, JSON.stringify(ShadowResultSchema.parse(result), null, 2) + '\n');
  return file;
}

export async function readShadowJson(file: string): Promise<ShadowResult> {
  return readThroughSchema(file, ShadowResultSchema);
}

/** `state/analytics/upgrade_shadow.json`: what the live worker's `orchestrator_status` shows. */
export const UpgradeShadowSummarySchema = z.strictObject({
  /** Reported (not cancelled) shadow differences. */
  count: z.number().int().min(0),
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
  return new WvoError('WVO_SHADOW_ARTIFACT_INVALID', `cannot read ${file}: ${message}`, {
    subject: file,
    hint: 'The file is unreadable or was not written by this version of wvo; re-run `wvo upgrade`.',
    cause,
  });
}
