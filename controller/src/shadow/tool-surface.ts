import { z } from 'zod';
import { canonicalJson } from '../../../common/src/canonical-json.js';
import { formatJsonPath, type PathKey } from './json-path.js';
import { checkJsonSchema } from './json-schema-check.js';
import { diffJsonSchema } from './json-schema-diff.js';
import { shadowErrors } from './errors.js';
import {
  SurfaceReportSchema,
  type ChangeCategory,
  type RawSurface,
  type SurfaceChange,
  type SurfaceKind,
  type SurfaceReport,
  type SurfaceSide,
} from './tool-surface-types.js';

/**
 * The tool-surface gate (pure): what a baseline and a candidate advertise — tools, prompts,
 * resources, resource templates — compared item by item, each change classified as breaking,
 * additive or informational with the reason. Input: the raw list results of each lane; a
 * malformed item or an invalid JSON Schema is a coded error naming the side, item and field.
 */

const Obj = z.record(z.string(), z.unknown());
const ToolItem = z.looseObject({ name: z.string().min(1), inputSchema: Obj, outputSchema: Obj.optional(), annotations: Obj.optional() });
const PromptArgument = z.looseObject({ name: z.string().min(1), required: z.boolean().optional() });
const PromptItem = z.looseObject({ name: z.string().min(1), arguments: z.array(PromptArgument).optional() });
const ResourceItem = z.looseObject({ uri: z.string().min(1), name: z.string() });
const TemplateItem = z.looseObject({ uriTemplate: z.string().min(1), name: z.string() });

type Item = Record<string, unknown>;

interface ListSpec {
  readonly kind: SurfaceKind;
  readonly list: keyof RawSurface;
  /** The field that names an item (its identity across lanes). */
  readonly id: string;
  readonly schema: z.ZodType<Item>;
  /** Fields compared by `compareItem`; every other field that differs is informational. */
  readonly fields: readonly string[];
}

const LISTS: readonly ListSpec[] = [
  { kind: 'tool', list: 'tools', id: 'name', schema: ToolItem, fields: ['inputSchema', 'outputSchema', 'annotations'] },
  { kind: 'prompt', list: 'prompts', id: 'name', schema: PromptItem, fields: ['arguments'] },
  { kind: 'resource', list: 'resources', id: 'uri', schema: ResourceItem, fields: ['mimeType'] },
  { kind: 'resource_template', list: 'resourceTemplates', id: 'uriTemplate', schema: TemplateItem, fields: ['mimeType'] },
];

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
const orNull = (value: unknown) => (value === undefined ? null : value);

/** One side's list, checked and keyed by identity. */
function readList(raw: readonly unknown[], spec: ListSpec, side: SurfaceSide): Map<string, Item> {
  const items = new Map<string, Item>();
  raw.forEach((entry, index) => {
    const parsed = spec.schema.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = formatJsonPath([spec.list, index, ...((issue?.path ?? []) as PathKey[])]);
      throw shadowErrors.create('WVO_SHADOW_SURFACE_INVALID', `${side}: ${spec.list} item ${index} at ${field}: ${issue?.message}`, {
        subject: `${side}:${field}`,
        details: { side, list: spec.list, index, field },
        hint: 'the server answers its list request with items the MCP schema does not allow; fix the server',
      });
    }
    const item = parsed.data;
    const id = item[spec.id] as string;
    if (items.has(id)) {
      throw shadowErrors.create('WVO_SHADOW_SURFACE_INVALID', `${side}: ${spec.list} lists ${JSON.stringify(id)} twice`, {
        subject: `${side}:${formatJsonPath([spec.list, id])}`,
        details: { side, list: spec.list, id },
      });
    }
    if (spec.kind === 'tool') checkToolSchemas(item, id, side);
    items.set(id, item);
  });
  return items;
}

/** A tool's input and output schemas must be JSON Schemas of objects (MCP requires `type: "object"`). */
function checkToolSchemas(tool: Item, name: string, side: SurfaceSide): void {
  for (const field of ['inputSchema', 'outputSchema'] as const) {
    const schema = tool[field] as Item | undefined;
    if (schema === undefined) continue;
    const problem =
      schema.type === 'object'
        ? checkJsonSchema(schema, [field])
        : { keys: [field, 'type'], message: `must be "object" (MCP tools take and return JSON objects), got ${JSON.stringify(schema.type ?? null)}` };
    if (!problem) continue;
    const where = formatJsonPath(problem.keys).slice(2); // `inputSchema.properties.q.type`
    throw shadowErrors.create('WVO_SHADOW_SCHEMA_INVALID', `tool ${JSON.stringify(name)} on the ${side}: ${where}: ${problem.message}`, {
      subject: `${side}:${formatJsonPath(['tools', name, ...problem.keys])}`,
      details: { side, tool: name, field: where },
      hint: 'the server advertises a schema clients cannot use; fix the tool definition',
    });
  }
}

/** The hints with the defaults MCP gives them (destructive and idempotent only mean something when not read-only). */
function hints(annotations: unknown) {
  const a = (annotations ?? {}) as Record<string, unknown>;
  const readOnly = a.readOnlyHint === true;
  return {
    readOnly,
    destructive: !readOnly && a.destructiveHint !== false,
    idempotent: readOnly || a.idempotentHint === true,
    openWorld: a.openWorldHint !== false,
  };
}

class SurfaceDiff {
  readonly changes: SurfaceChange[] = [];

  add(kind: SurfaceKind, keys: readonly PathKey[], category: ChangeCategory, before: unknown, after: unknown, reason: string): void {
    this.changes.push({ kind, category, path: formatJsonPath(keys), before: orNull(before), after: orNull(after), reason });
  }

  list(spec: ListSpec, before: Map<string, Item>, after: Map<string, Item>): void {
    for (const id of new Set([...before.keys(), ...after.keys()])) {
      const keys = [spec.list, id];
      const b = before.get(id);
      const a = after.get(id);
      if (a === undefined) this.add(spec.kind, keys, 'breaking', b, null, `${spec.kind.replace('_', ' ')} removed: clients that use it fail`);
      else if (b === undefined) this.add(spec.kind, keys, 'additive', null, a, `new ${spec.kind.replace('_', ' ')}`);
      else if (!same(b, a)) this.item(spec, keys, b, a);
    }
  }

  private item(spec: ListSpec, keys: readonly PathKey[], b: Item, a: Item): void {
    const { kind } = spec;
    if (kind === 'tool') this.tool(keys, b, a);
    else if (kind === 'prompt') this.promptArguments(keys, b, a);
    else if (!same(b.mimeType, a.mimeType)) {
      this.add(kind, [...keys, 'mimeType'], 'breaking', b.mimeType, a.mimeType, 'mimeType changed: clients parse the content differently');
    }
    for (const field of new Set([...Object.keys(b), ...Object.keys(a)])) {
      if (field === spec.id || spec.fields.includes(field) || same(b[field], a[field])) continue;
      this.add(kind, [...keys, field], 'informational', b[field], a[field], `${field} changed`);
    }
  }

  private tool(keys: readonly PathKey[], b: Item, a: Item): void {
    for (const change of diffJsonSchema(b.inputSchema, a.inputSchema, 'input', [...keys, 'inputSchema'])) {
      this.add('tool', change.keys, change.category, change.before, change.after, change.reason);
    }
    if (b.outputSchema === undefined && a.outputSchema !== undefined) {
      this.add('tool', [...keys, 'outputSchema'], 'additive', null, a.outputSchema, 'now promises structured output');
    } else if (b.outputSchema !== undefined && a.outputSchema === undefined) {
      this.add('tool', [...keys, 'outputSchema'], 'breaking', b.outputSchema, null, 'structured output no longer promised: clients that read it find nothing');
    } else {
      for (const change of diffJsonSchema(b.outputSchema, a.outputSchema, 'output', [...keys, 'outputSchema'])) {
        this.add('tool', change.keys, change.category, change.before, change.after, change.reason);
      }
    }
    this.annotations([...keys, 'annotations'], b.annotations, a.annotations);
  }

  private annotations(keys: readonly PathKey[], before: unknown, after: unknown): void {
    if (same(before, after)) return;
    const b = hints(before);
    const a = hints(after);
    const at = (hint: string) => [...keys, hint];
    if (b.readOnly !== a.readOnly) {
      this.add('tool', at('readOnlyHint'), b.readOnly ? 'breaking' : 'informational', b.readOnly, a.readOnly,
        b.readOnly ? 'no longer read-only: clients that call it freely (shadows, retries) may now change state' : 'now read-only');
    }
    // Only meaningful for tools that write, on both sides.
    if (!b.readOnly && !a.readOnly && b.destructive !== a.destructive) {
      this.add('tool', at('destructiveHint'), a.destructive ? 'breaking' : 'informational', b.destructive, a.destructive,
        a.destructive ? 'now destructive (absent means true): clients may need to confirm before calling it' : 'no longer destructive');
    }
    if (!b.readOnly && !a.readOnly && b.idempotent !== a.idempotent) {
      this.add('tool', at('idempotentHint'), b.idempotent ? 'breaking' : 'informational', b.idempotent, a.idempotent,
        b.idempotent ? 'no longer idempotent: a retried call may repeat its effect' : 'now idempotent');
    }
    if (b.openWorld !== a.openWorld) this.add('tool', at('openWorldHint'), 'informational', b.openWorld, a.openWorld, 'openWorldHint changed');
    const rest = (value: unknown) => {
      const { readOnlyHint: _r, destructiveHint: _d, idempotentHint: _i, openWorldHint: _o, ...others } = (value ?? {}) as Record<string, unknown>;
      return others;
    };
    const [restBefore, restAfter] = [rest(before), rest(after)];
    for (const field of new Set([...Object.keys(restBefore), ...Object.keys(restAfter)])) {
      if (!same(restBefore[field], restAfter[field])) this.add('tool', at(field), 'informational', restBefore[field], restAfter[field], `annotation ${field} changed`);
    }
  }

  private promptArguments(keys: readonly PathKey[], b: Item, a: Item): void {
    const byName = (item: Item) => new Map(((item.arguments ?? []) as Item[]).map((arg) => [arg.name as string, arg]));
    const before = byName(b);
    const after = byName(a);
    for (const name of new Set([...before.keys(), ...after.keys()])) {
      const at = [...keys, 'arguments', name];
      const was = before.get(name);
      const now = after.get(name);
      if (now === undefined) this.add('prompt', at, 'breaking', was, null, 'prompt argument removed: clients that pass it are rejected or ignored');
      else if (was === undefined) {
        const required = now.required === true;
        this.add('prompt', at, required ? 'breaking' : 'additive', null, now, required ? 'new required prompt argument' : 'new optional prompt argument');
      } else {
        if ((was.required === true) !== (now.required === true)) {
          this.add('prompt', [...at, 'required'], now.required === true ? 'breaking' : 'additive', was.required === true, now.required === true,
            now.required === true ? 'prompt argument now required' : 'prompt argument now optional');
        }
        for (const field of new Set([...Object.keys(was), ...Object.keys(now)])) {
          if (field === 'name' || field === 'required' || same(was[field], now[field])) continue;
          this.add('prompt', [...at, field], 'informational', was[field], now[field], `argument ${field} changed`);
        }
      }
    }
  }
}

/** Compare what `baseline` and `candidate` advertise; every change classified, with counts. */
export function compareSurfaces(baseline: RawSurface, candidate: RawSurface): SurfaceReport {
  const diff = new SurfaceDiff();
  for (const spec of LISTS) {
    const before = readList(baseline[spec.list], spec, 'baseline');
    const after = readList(candidate[spec.list], spec, 'candidate');
    diff.list(spec, before, after);
  }
  const count = (category: ChangeCategory) => diff.changes.filter((c) => c.category === category).length;
  return SurfaceReportSchema.parse({
    changes: diff.changes,
    breaking: count('breaking'),
    additive: count('additive'),
    informational: count('informational'),
  });
}
