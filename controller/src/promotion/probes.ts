import { z } from 'zod';
import { jsonEqual, parseJsonPath, selectPaths, type PathSegment } from '../shadow/index.js';
import { promotionErrors } from './errors.js';

/**
 * Semantic probes (issue 12): synthetic MCP calls with expectations, run against both lanes every
 * interval. Pure here: the declared shape, its validation (coded errors naming the field) and the
 * judgement of one answer; the executor makes the calls with a real SDK client.
 */
export const JSON_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'] as const;

export const probeExpectationSchema = z
  .object({
    /** JSON path into the tool's result (`$.queue.by_status.open`, `$.tasks[*].id`). */
    path: z.string().min(1),
    /** Every value the path selects equals this. */
    equals: z.unknown().optional(),
    /** The path selects something (true, the default when nothing else is asked) or nothing (false). */
    exists: z.boolean().optional(),
    /** Every value selected is a string matching this regular expression. */
    matches: z.string().optional(),
    /** Every value selected is of this JSON type. */
    type: z.enum(JSON_TYPES).optional(),
  })
  .strict();
export type ProbeExpectation = z.infer<typeof probeExpectationSchema>;

export const probeSchema = z
  .object({
    /** Names the failed check (`probe <name> failed on the candidate`). */
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (1–64)'),
    tool: z.string().min(1),
    arguments: z.record(z.string(), z.unknown()).default({}),
    expect: z.array(probeExpectationSchema).default([]),
    /** JSON Schema the tool's result must satisfy. */
    schema: z.record(z.string(), z.unknown()).optional(),
    /** The call is expected to answer with `isError: true` (a probe of a refusal). */
    expectError: z.boolean().default(false),
    timeoutMs: z.number().int().positive().default(5_000),
  })
  .strict();
export type Probe = z.infer<typeof probeSchema>;

/** Validate probes from the options or a stored plan; the error's subject is the field (`probes[0].expect[1].path`). */
export function parseProbes(input: unknown): Probe[] {
  if (input === undefined || input === null) return [];
  const parsed = z.array(probeSchema).safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const extra = issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [];
    throw invalid(fieldPath(['probes', ...issue.path, ...extra]), issue.code === 'unrecognized_keys' ? `unknown field "${issue.keys[0]}"` : issue.message);
  }
  const probes = parsed.data;
  const names = new Set<string>();
  probes.forEach((probe, i) => {
    if (names.has(probe.name)) throw invalid(`probes[${i}].name`, `probe ${probe.name} is listed twice`);
    names.add(probe.name);
    probe.expect.forEach((e, j) => {
      const at = `probes[${i}].expect[${j}]`;
      const path = parseJsonPath(e.path);
      if (!path.ok) throw invalid(`${at}.path`, path.error);
      if (e.matches !== undefined) {
        try {
          new RegExp(e.matches);
        } catch (error) {
          throw invalid(`${at}.matches`, (error as Error).message);
        }
      }
    });
    if (probe.schema) compileSchema(probe.schema, `probes[${i}].schema`);
  });
  return probes;
}

/** What one probe call gave back (the executor's MCP client). */
export interface ProbeAnswer {
  readonly isError: boolean;
  readonly value: unknown;
}

/** Judge one answer: the first unmet expectation is the reason. */
export function judgeProbe(probe: Probe, answer: ProbeAnswer): { ok: boolean; reason?: string } {
  if (answer.isError !== probe.expectError) {
    const code = (answer.value as { code?: unknown } | null)?.code;
    return { ok: false, reason: answer.isError ? `${probe.tool} answered an error${typeof code === 'string' ? ` (${code})` : ''}` : `${probe.tool} did not answer an error` };
  }
  if (probe.schema) {
    const result = compileSchema(probe.schema, 'schema').safeParse(answer.value);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      return { ok: false, reason: `result does not match the schema at ${fieldPath(['$', ...issue.path])}: ${issue.message}` };
    }
  }
  for (const e of probe.expect) {
    const failed = unmet(e, answer.value);
    if (failed) return { ok: false, reason: `${e.path} ${failed}` };
  }
  return { ok: true };
}

function unmet(e: ProbeExpectation, value: unknown): string | undefined {
  const parsed = parseJsonPath(e.path);
  if (!parsed.ok) return parsed.error;
  const values = select(value, parsed.segments);
  const wantsExistence = e.exists ?? true;
  if (!wantsExistence) return values.length === 0 ? undefined : `exists (${values.length} match), expected absent`;
  if (values.length === 0) return 'selects nothing';
  const show = (v: unknown) => JSON.stringify(v)?.slice(0, 80);
  if (e.equals !== undefined) {
    const bad = values.findIndex((v) => !jsonEqual(v, e.equals));
    if (bad >= 0) return `is ${show(values[bad])}, expected ${show(e.equals)}`;
  }
  if (e.matches !== undefined) {
    const re = new RegExp(e.matches);
    const bad = values.findIndex((v) => typeof v !== 'string' || !re.test(v));
    if (bad >= 0) return `is ${show(values[bad])}, expected to match /${e.matches}/`;
  }
  if (e.type !== undefined) {
    const bad = values.findIndex((v) => !jsonType(v, e.type!));
    if (bad >= 0) return `is ${show(values[bad])}, expected a${e.type === 'integer' || e.type === 'object' || e.type === 'array' ? 'n' : ''} ${e.type}`;
  }
  return undefined;
}

function select(value: unknown, segments: readonly PathSegment[]): unknown[] {
  return selectPaths(value, segments).map((keys) => keys.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], value));
}

function jsonType(v: unknown, type: (typeof JSON_TYPES)[number]): boolean {
  switch (type) {
    case 'null':
      return v === null;
    case 'array':
      return Array.isArray(v);
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'integer':
      return Number.isInteger(v);
    default:
      return typeof v === type;
  }
}

const compiled = new WeakMap<object, z.ZodType>();

/** JSON Schema → zod (z.fromJSONSchema), after a shape check it does not make (a `type` that is not a JSON type). */
function compileSchema(schema: Record<string, unknown>, subject: string): z.ZodType {
  const cached = compiled.get(schema);
  if (cached) return cached;
  const badType = findBadType(schema, subject);
  if (badType) throw invalid(badType.at, badType.why);
  try {
    const zod = z.fromJSONSchema(withRequiredProperties(schema) as Parameters<typeof z.fromJSONSchema>[0]);
    compiled.set(schema, zod);
    return zod;
  } catch (error) {
    throw invalid(subject, `not a usable JSON Schema: ${(error as Error).message}`);
  }
}

/** z.fromJSONSchema ignores a `required` name that `properties` does not declare; JSON Schema does not. */
function withRequiredProperties(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withRequiredProperties);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === 'const' || k === 'enum' ? v : withRequiredProperties(v)]));
  if (Array.isArray(out.required)) {
    const properties = { ...((out.properties as Record<string, unknown> | undefined) ?? {}) };
    for (const name of out.required as string[]) if (!(name in properties)) properties[name] = {};
    out.properties = properties;
  }
  return out;
}

function findBadType(node: unknown, at: string): { at: string; why: string } | undefined {
  if (Array.isArray(node)) {
    for (const [i, child] of node.entries()) {
      const found = findBadType(child, `${at}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof node !== 'object' || node === null) return undefined;
  for (const [key, child] of Object.entries(node)) {
    if (key === 'type') {
      const types = Array.isArray(child) ? child : [child];
      const bad = types.find((t) => !(JSON_TYPES as readonly unknown[]).includes(t));
      if (bad !== undefined) return { at: `${at}.type`, why: `${JSON.stringify(bad)} is not a JSON type (${JSON_TYPES.join(', ')})` };
    } else if (key === 'required' && (!Array.isArray(child) || child.some((r) => typeof r !== 'string'))) {
      return { at: `${at}.required`, why: 'must be an array of property names' };
    } else if (key !== 'const' && key !== 'enum' && key !== 'default' && key !== 'examples') {
      const found = findBadType(child, `${at}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

/** `['probes', 0, 'expect', 1, 'path']` → `probes[0].expect[1].path`. */
function fieldPath(keys: ReadonlyArray<PropertyKey>): string {
  return keys.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`)).join('');
}

function invalid(subject: string, why: string) {
  return promotionErrors.create('WVO_PROBE_INVALID', `invalid probe ${subject}: ${why}`, {
    subject,
    hint: 'a probe is {name, tool, arguments?, expect?: [{path, equals?|exists?|matches?|type?}], schema?, expectError?}',
  });
}
