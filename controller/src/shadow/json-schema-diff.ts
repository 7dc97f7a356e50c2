import { canonicalJson } from '../../../common/src/canonical-json.js';
import type { PathKey } from './json-path.js';
import type { ChangeCategory } from './tool-surface-types.js';

/**
 * Classifies the difference between two JSON Schemas of one tool, by the direction data flows:
 * an `input` schema describes what clients send (accepting more is additive, accepting less
 * breaks clients); an `output` schema describes what clients receive (promising less — a removed
 * property, a wider type — breaks them; promising more is additive or informational).
 *
 * Compared structurally: type sets (integer ⊂ number), enum/const, bounds, pattern/format,
 * properties and required, additionalProperties, items, anyOf/oneOf branch sets, $defs.
 * allOf, not, $ref and a combinator that appears or disappears are compared as a whole
 * (any difference is breaking). Keywords not listed are informational.
 */
export const SCHEMA_DIRECTIONS = ['input', 'output'] as const;
export type SchemaDirection = (typeof SCHEMA_DIRECTIONS)[number];

export interface SchemaChange {
  readonly keys: readonly PathKey[];
  readonly category: ChangeCategory;
  readonly before: unknown;
  readonly after: unknown;
  readonly reason: string;
}

/** How the set of values a schema allows moved. */
type Shift = 'widened' | 'narrowed' | 'changed';

const WORDS = ['description', 'title', '$comment', 'examples', 'default', 'deprecated', '$schema', '$id', 'readOnly', 'writeOnly'] as const;
const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'] as const;
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties', 'multipleOf'] as const;
const WHOLE = ['allOf', 'not', '$ref', 'if', 'then', 'else', 'prefixItems', 'patternProperties', 'propertyNames', 'contains'] as const;
const HANDLED = new Set<string>([
  ...WORDS,
  ...LOWER_BOUNDS,
  ...UPPER_BOUNDS,
  ...WHOLE,
  'type',
  'enum',
  'const',
  'pattern',
  'format',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'anyOf',
  'oneOf',
  '$defs',
  'definitions',
]);

type Schema = Record<string, unknown>;

const isObject = (value: unknown): value is Schema => value !== null && typeof value === 'object' && !Array.isArray(value);
const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
const orNull = (value: unknown) => (value === undefined ? null : value);

function categoryOf(shift: Shift, direction: SchemaDirection): ChangeCategory {
  if (shift === 'changed') return 'breaking';
  if (direction === 'input') return shift === 'widened' ? 'additive' : 'breaking';
  return shift === 'widened' ? 'breaking' : 'informational';
}

function explain(shift: Shift, direction: SchemaDirection, what: string): string {
  if (shift === 'changed') return `${direction} ${what} changed: neither accepts all the other does`;
  if (direction === 'input') {
    return shift === 'widened' ? `input ${what} widened: every input the baseline accepted is still accepted` : `input ${what} narrowed: inputs the baseline accepted are now rejected`;
  }
  return shift === 'widened'
    ? `output ${what} widened: clients may receive values the baseline never sent`
    : `output ${what} narrowed: every value is one clients already handle`;
}

/** Sets compared by canonical JSON: does `outer` hold every member of `inner`? */
function covers(outer: readonly unknown[], inner: readonly unknown[]): boolean {
  const keys = new Set(outer.map(canonicalJson));
  return inner.every((value) => keys.has(canonicalJson(value)));
}

/** Shift between two optional constraint sets, where absent means "anything". */
function setShift(before: readonly unknown[] | undefined, after: readonly unknown[] | undefined, accepts = covers): Shift | undefined {
  if (before === undefined && after === undefined) return undefined;
  if (after === undefined) return 'widened';
  if (before === undefined) return 'narrowed';
  const wider = accepts(after, before);
  const narrower = accepts(before, after);
  if (wider && narrower) return undefined;
  return wider ? 'widened' : narrower ? 'narrowed' : 'changed';
}

function typeList(schema: Schema): string[] | undefined {
  const { type } = schema;
  if (type === undefined) return undefined;
  return (Array.isArray(type) ? type : [type]) as string[];
}

/** Types accepted by `outer` include every type of `inner` (an integer is a number). */
function acceptsTypes(outer: readonly unknown[], inner: readonly unknown[]): boolean {
  return inner.every((t) => outer.includes(t) || (t === 'integer' && outer.includes('number')));
}

function enumList(schema: Schema): unknown[] | undefined {
  if (schema.const !== undefined) return [schema.const];
  return Array.isArray(schema.enum) ? schema.enum : undefined;
}

function requiredSet(schema: Schema): Set<string> {
  return new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
}

class SchemaDiff {
  readonly changes: SchemaChange[] = [];

  constructor(private readonly direction: SchemaDirection) {}

  add(keys: readonly PathKey[], category: ChangeCategory, before: unknown, after: unknown, reason: string): void {
    this.changes.push({ keys, category, before: orNull(before), after: orNull(after), reason });
  }

  shift(keys: readonly PathKey[], shift: Shift | undefined, before: unknown, after: unknown, what: string): void {
    if (shift !== undefined) this.add(keys, categoryOf(shift, this.direction), before, after, explain(shift, this.direction, what));
  }

  compare(before: unknown, after: unknown, keys: readonly PathKey[]): void {
    if (same(before, after)) return;
    // `true` and `{}` both accept anything; `false` accepts nothing.
    const b = before === true ? {} : before;
    const a = after === true ? {} : after;
    if (!isObject(b) || !isObject(a)) {
      const shift: Shift = a === false ? 'narrowed' : b === false ? 'widened' : 'changed';
      this.shift(keys, shift, before, after, 'schema');
      return;
    }
    this.words(b, a, keys);
    this.shift([...keys, 'type'], setShift(typeList(b), typeList(a), acceptsTypes), b.type, a.type, 'type');
    this.shift([...keys, b.const !== undefined || a.const !== undefined ? 'const' : 'enum'], setShift(enumList(b), enumList(a)), b.enum ?? b.const, a.enum ?? a.const, 'enum');
    this.bounds(b, a, keys);
    for (const key of ['pattern', 'format'] as const) {
      if (same(b[key], a[key])) continue;
      const shift: Shift = a[key] === undefined ? 'widened' : b[key] === undefined ? 'narrowed' : 'changed';
      this.shift([...keys, key], shift, b[key], a[key], key);
    }
    this.properties(b, a, keys);
    this.additional(b.additionalProperties, a.additionalProperties, [...keys, 'additionalProperties']);
    this.items(b.items, a.items, [...keys, 'items']);
    for (const key of ['anyOf', 'oneOf'] as const) {
      if (same(b[key], a[key])) continue;
      const both = Array.isArray(b[key]) && Array.isArray(a[key]);
      // More branches accept more; a combinator that appears or goes is compared as a whole.
      const shift: Shift = both ? (setShift(b[key] as unknown[], a[key] as unknown[]) ?? 'changed') : 'changed';
      this.shift([...keys, key], shift, b[key], a[key], key);
    }
    for (const key of WHOLE) if (!same(b[key], a[key])) this.shift([...keys, key], 'changed', b[key], a[key], key);
    for (const key of ['$defs', 'definitions'] as const) this.definitions(b[key], a[key], [...keys, key]);
    for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
      if (HANDLED.has(key) || same(b[key], a[key])) continue;
      this.add([...keys, key], 'informational', b[key], a[key], `keyword ${key} changed (not classified: review it)`);
    }
  }

  private words(b: Schema, a: Schema, keys: readonly PathKey[]): void {
    for (const key of WORDS) {
      if (same(b[key], a[key])) continue;
      this.add([...keys, key], 'informational', b[key], a[key], key === 'default' ? 'default changed: calls that omit the value behave differently' : `${key} changed`);
    }
  }

  private bounds(b: Schema, a: Schema, keys: readonly PathKey[]): void {
    for (const [list, lower] of [[LOWER_BOUNDS, true], [UPPER_BOUNDS, false]] as const) {
      for (const key of list) {
        const before = b[key];
        const after = a[key];
        if (same(before, after)) continue;
        let shift: Shift;
        if (typeof before !== 'number' && typeof after !== 'number') shift = 'changed'; // draft-4 booleans
        else if (after === undefined) shift = 'widened';
        else if (before === undefined) shift = 'narrowed';
        else if (key === 'multipleOf') {
          const [was, now] = [before as number, after as number];
          shift = now % was === 0 ? 'narrowed' : was % now === 0 ? 'widened' : 'changed';
        }
        else shift = (after as number) > (before as number) === lower ? 'narrowed' : 'widened';
        this.shift([...keys, key], shift, before, after, key);
      }
    }
  }

  private properties(b: Schema, a: Schema, keys: readonly PathKey[]): void {
    const before = isObject(b.properties) ? b.properties : {};
    const after = isObject(a.properties) ? a.properties : {};
    const requiredBefore = requiredSet(b);
    const requiredAfter = requiredSet(a);
    const input = this.direction === 'input';
    const names = new Set([...Object.keys(before), ...Object.keys(after), ...requiredBefore, ...requiredAfter]);
    for (const name of names) {
      const at = [...keys, 'properties', name];
      const had = name in before;
      const has = name in after;
      if (had && !has) {
        this.add(at, 'breaking', before[name], null, input ? 'input property removed: clients that send it are rejected or ignored' : 'output property removed: clients that read it find nothing');
        continue;
      }
      if (!had && has) {
        if (input) {
          const required = requiredAfter.has(name);
          this.add(at, required ? 'breaking' : 'additive', null, after[name], required ? 'new required input property: calls written for the baseline lack it' : 'new optional input property');
        } else this.add(at, 'additive', null, after[name], 'new output property');
        continue;
      }
      if (had) this.compare(before[name], after[name], at);
      const wasRequired = requiredBefore.has(name);
      const isRequired = requiredAfter.has(name);
      if (wasRequired === isRequired) continue;
      const where = [...keys, 'required', name];
      if (input) {
        this.add(where, isRequired ? 'breaking' : 'additive', wasRequired, isRequired, isRequired ? 'input property now required: calls that omit it are rejected' : 'input property now optional');
      } else {
        this.add(where, isRequired ? 'informational' : 'breaking', wasRequired, isRequired, isRequired ? 'output property now always present' : 'output property no longer always present');
      }
    }
  }

  private additional(before: unknown, after: unknown, keys: readonly PathKey[]): void {
    if (same(before, after)) return;
    const open = (value: unknown) => value === undefined || value === true;
    if (isObject(before) && isObject(after)) return this.compare(before, after, keys);
    let shift: Shift;
    if (open(after)) shift = 'widened';
    else if (after === false) shift = 'narrowed';
    else shift = open(before) ? 'narrowed' : 'widened'; // a schema now, where anything or nothing was allowed
    // Extra properties in an answer are ignored by JSON clients: only the input side can break.
    if (this.direction === 'output' && shift === 'widened') {
      this.add(keys, 'informational', before, after, 'output may carry properties the baseline did not list');
      return;
    }
    this.shift(keys, shift, before, after, 'additionalProperties');
  }

  private items(before: unknown, after: unknown, keys: readonly PathKey[]): void {
    if (same(before, after)) return;
    if (before !== undefined && after !== undefined && !Array.isArray(before) && !Array.isArray(after)) return this.compare(before, after, keys);
    const shift: Shift = after === undefined ? 'widened' : before === undefined ? 'narrowed' : 'changed';
    this.shift(keys, shift, before, after, 'items');
  }

  private definitions(before: unknown, after: unknown, keys: readonly PathKey[]): void {
    const b = isObject(before) ? before : {};
    const a = isObject(after) ? after : {};
    for (const name of new Set([...Object.keys(b), ...Object.keys(a)])) {
      if (!(name in a)) this.add([...keys, name], 'breaking', b[name], null, 'definition removed: references to it no longer resolve');
      else if (!(name in b)) this.add([...keys, name], 'informational', null, a[name], 'new definition');
      else this.compare(b[name], a[name], [...keys, name]);
    }
  }
}

/** Every classified difference between `before` and `after`, paths relative to `keys`. */
export function diffJsonSchema(before: unknown, after: unknown, direction: SchemaDirection, keys: readonly PathKey[] = []): SchemaChange[] {
  const diff = new SchemaDiff(direction);
  diff.compare(before, after, keys);
  return diff.changes;
}
