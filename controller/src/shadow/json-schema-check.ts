import { formatJsonPath, type PathKey } from './json-path.js';

/**
 * Structural check of a JSON Schema (the keywords the surface gate compares): each keyword has
 * the shape the specification gives it. Returns the first problem as {keys, message}, or undefined.
 * Not a full meta-schema validation: unknown keywords are allowed, as JSON Schema allows them.
 */
export interface SchemaProblem {
  readonly keys: readonly PathKey[];
  readonly message: string;
}

export const JSON_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'] as const;

const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'] as const;
const SUBSCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'] as const;
const SUBSCHEMAS = ['not', 'additionalProperties', 'propertyNames', 'contains', 'if', 'then', 'else', 'unevaluatedProperties'] as const;
const NUMBERS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'] as const;
const COUNTS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'minContains', 'maxContains'] as const;

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

export function checkJsonSchema(schema: unknown, keys: readonly PathKey[] = []): SchemaProblem | undefined {
  if (typeof schema === 'boolean') return undefined;
  if (!isObject(schema)) return { keys, message: `a schema must be an object or a boolean, got ${JSON.stringify(schema)}` };
  const at = (key: PathKey, message: string): SchemaProblem => ({ keys: [...keys, key], message });
  const { type } = schema;
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    if (types.length === 0) return at('type', 'an empty type list accepts nothing');
    const bad = types.find((t) => !(JSON_TYPES as readonly unknown[]).includes(t));
    if (bad !== undefined) return at('type', `${JSON.stringify(bad)} is not a JSON Schema type (${JSON_TYPES.join(', ')})`);
  }
  if (schema.required !== undefined && !(Array.isArray(schema.required) && schema.required.every((r) => typeof r === 'string'))) {
    return at('required', 'must be a list of property names');
  }
  if (schema.enum !== undefined && !Array.isArray(schema.enum)) return at('enum', 'must be a list of values');
  for (const key of NUMBERS) if (schema[key] !== undefined && typeof schema[key] !== 'number') return at(key, 'must be a number');
  for (const key of COUNTS) {
    const value = schema[key];
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0)) return at(key, 'must be an integer ≥ 0');
  }
  if (schema.pattern !== undefined) {
    if (typeof schema.pattern !== 'string') return at('pattern', 'must be a string');
    try {
      new RegExp(schema.pattern, 'u');
    } catch (error) {
      return at('pattern', `not a regular expression: ${(error as Error).message}`);
    }
  }
  for (const key of SUBSCHEMA_MAPS) {
    const map = schema[key];
    if (map === undefined) continue;
    if (!isObject(map)) return at(key, 'must be an object of schemas');
    for (const [name, sub] of Object.entries(map)) {
      const problem = checkJsonSchema(sub, [...keys, key, name]);
      if (problem) return problem;
    }
  }
  for (const key of SUBSCHEMA_LISTS) {
    const list = schema[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) return at(key, 'must be a non-empty list of schemas');
    for (const [index, sub] of list.entries()) {
      const problem = checkJsonSchema(sub, [...keys, key, index]);
      if (problem) return problem;
    }
  }
  for (const key of SUBSCHEMAS) {
    if (schema[key] === undefined) continue;
    const problem = checkJsonSchema(schema[key], [...keys, key]);
    if (problem) return problem;
  }
  if (schema.items !== undefined) {
    const items = Array.isArray(schema.items) ? schema.items : [schema.items];
    for (const [index, sub] of items.entries()) {
      const problem = checkJsonSchema(sub, Array.isArray(schema.items) ? [...keys, 'items', index] : [...keys, 'items']);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** A problem's location as a JSON path below `root` (e.g. `$.inputSchema.properties.q.type`). */
export function problemPath(root: readonly PathKey[], problem: SchemaProblem): string {
  return formatJsonPath([...root, ...problem.keys]);
}
