import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { WvoError } from '../../../common/src/errors.js';
import { findArgumentRefs } from './argument-refs.js';
import { formatJsonPath, parseJsonPath, type PathKey } from './json-path.js';
import { PartialThresholdsSchema } from './thresholds.js';
import { shadowErrors } from './errors.js';

/** A JSON path that the normaliser understands; rejected here so a typo fails before any lane runs. */
const JsonPathSchema = z.string().superRefine((text, ctx) => {
  const parsed = parseJsonPath(text);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: `invalid JSON path: ${parsed.error}` });
});

export const SuiteCallSchema = z.strictObject({
  tool: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()).default({}),
  /** Paths removed from this call's results before diffing. */
  ignore: z.array(JsonPathSchema).optional(),
  /** A label for reports; defaults to `<tool>#<index>`. */
  name: z.string().min(1).optional(),
  /**
   * The call changes no state, so the runner may repeat it on the baseline and replicas and use
   * the repeats as extra noise samples (`read_only_repeats` times, right after the call).
   */
  read_only: z.boolean().optional(),
  /**
   * The suite's author vouches that this call changes nothing anyone else sees: it may run on an
   * app with no shadow mode although its tool is not annotated `readOnlyHint: true`.
   */
  safe: z.boolean().optional(),
});

export const SuiteSchema = z
  .strictObject({
    calls: z.array(SuiteCallSchema).min(1),
    /** Paths removed from every call's results. */
    ignore: z.array(JsonPathSchema).optional(),
    thresholds: PartialThresholdsSchema.optional(),
    /** How often each `read_only` call is repeated for noise samples (default DEFAULT_READ_ONLY_REPEATS). */
    read_only_repeats: z.number().int().min(0).max(10).optional(),
  })
  .superRefine((suite, ctx) => {
    // `{"$from": name, "path": ...}` arguments must name an earlier call and a valid path.
    const earlier = new Set<string>();
    suite.calls.forEach((call, index) => {
      for (const { ref, keys } of findArgumentRefs(call.arguments)) {
        const at = ['calls', index, 'arguments', ...keys];
        if (!earlier.has(ref.$from)) {
          ctx.addIssue({ code: 'custom', path: [...at, '$from'], message: `"${ref.$from}" is not the name of an earlier call` });
        }
        const parsed = parseJsonPath(ref.path);
        if (!parsed.ok) ctx.addIssue({ code: 'custom', path: [...at, 'path'], message: `invalid JSON path: ${parsed.error}` });
      }
      if (call.name !== undefined) earlier.add(call.name);
    });
  });

/** Repeats of a read-only call when neither the suite nor the caller says: one more sample each. */
export const DEFAULT_READ_ONLY_REPEATS = 1;

export type SuiteCall = z.infer<typeof SuiteCallSchema>;
export type Suite = z.infer<typeof SuiteSchema>;
export type SuiteInput = z.input<typeof SuiteSchema>;

export const SUITE_FORMATS = ['json', 'yaml'] as const;
export type SuiteFormat = (typeof SUITE_FORMATS)[number];

/** The label a call carries in reports and errors. */
export function callLabel(call: SuiteCall, index: number): string {
  return call.name ?? `${call.tool}#${index}`;
}

/**
 * Parse suite text. `source` names the file in errors; the format follows its extension
 * (`.yaml`/`.yml` → YAML, otherwise JSON) unless given.
 */
export function parseSuite(text: string, source: string, format: SuiteFormat = formatOf(source)): Suite {
  const raw = format === 'yaml' ? parseYaml(text, source) : parseJson(text, source);
  return validateSuite(raw, source);
}

/** Validate an already-parsed value (e.g. a suite built in code). */
export function validateSuite(raw: unknown, source = '<suite>'): Suite {
  const parsed = SuiteSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => {
    const keys = issue.path.filter(isPathKey);
    // An unknown key is reported at the key itself, not at the object that holds it.
    if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) keys.push(issue.keys[0]);
    return { path: formatJsonPath(keys), message: issue.message };
  });
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  throw shadowErrors.create('WVO_SUITE_INVALID', `suite ${source} is invalid at ${first.path}: ${first.message}${more}`, {
    subject: `${source} ${first.path}`,
    hint: 'A suite is {calls: [{tool, arguments, ignore?, name?, read_only?}], ignore?, thresholds?, read_only_repeats?}; fix the field named.',
    details: { file: source, path: first.path, issues },
  });
}

/** Read and validate a suite file (JSON or YAML). */
export async function loadSuite(file: string): Promise<Suite> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw shadowErrors.create('WVO_SUITE_UNREADABLE', `cannot read suite file ${file}: ${(error as Error).message}`, {
      subject: file,
      hint: 'Check the --suite path; it is resolved against the current directory.',
      cause: error,
    });
  }
  return parseSuite(text, file);
}

/**
 * Every call must name a tool the server lists; otherwise the suite was written for another
 * server (or the tool was renamed), which is a suite error, not a shadow difference.
 */
export function checkSuiteTools(suite: Suite, toolNames: Iterable<string>, source = '<suite>'): void {
  const known = new Set(toolNames);
  suite.calls.forEach((call, index) => {
    if (known.has(call.tool)) return;
    const listed = [...known].sort().join(', ') || '(none)';
    throw shadowErrors.create(
      'WVO_SUITE_UNKNOWN_TOOL',
      `suite ${source} call ${index} (${callLabel(call, index)}) names tool "${call.tool}", which the server does not list`,
      {
        subject: `${source} $.calls[${index}].tool`,
        hint: `The server lists: ${listed}.`,
        details: { file: source, index, tool: call.tool, listed: [...known].sort() },
      },
    );
  });
}

function formatOf(source: string): SuiteFormat {
  const ext = extname(source).toLowerCase();
  return ext === '.yaml' || ext === '.yml' ? 'yaml' : 'json';
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw syntaxError(source, 'JSON', (error as Error).message, error);
  }
}

function parseYaml(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true });
  const first = doc.errors[0];
  if (first) throw syntaxError(source, 'YAML', first.message, first);
  return doc.toJS() as unknown;
}

function syntaxError(source: string, format: string, message: string, cause: unknown): WvoError {
  return shadowErrors.create('WVO_SUITE_INVALID', `suite ${source} is not valid ${format}: ${message}`, {
    subject: `${source} $`,
    hint: `Fix the ${format} syntax; the position is in the message.`,
    details: { file: source, path: '$' },
    cause,
  });
}

function isPathKey(key: PropertyKey): key is PathKey {
  return typeof key === 'string' || typeof key === 'number';
}
