import { isPlainObject, parseJsonPath, selectPaths, type PathKey, type PathSegment } from './json-path.js';
import { shadowErrors } from './errors.js';

/** What an ignored array element becomes: a placeholder keeps the later indices where they were. */
export const IGNORED = '[ignored]';

/**
 * Normalise a result before diffing: a canonical copy (object keys sorted, only JSON values)
 * with every `ignore` path removed. Object members are deleted; array elements are replaced by
 * IGNORED; an ignored root becomes IGNORED. Arrays are never sorted: order is behaviour.
 */
export function normalise(value: unknown, ignore: readonly string[] = []): unknown {
  let root = canonical(value);
  for (const segments of ignore.map(compilePath)) {
    for (const keys of selectPaths(root, segments)) {
      if (keys.length === 0) root = IGNORED;
      else removeAt(root, keys);
    }
  }
  return root;
}

function compilePath(text: string): readonly PathSegment[] {
  const parsed = parseJsonPath(text);
  if (parsed.ok) return parsed.segments;
  throw shadowErrors.create('WVO_SUITE_INVALID', `ignore rule ${text} is not a valid JSON path: ${parsed.error}`, {
    subject: text,
    hint: 'Use $.a.b, $.list[*].field, $..field or $["odd key"].',
  });
}

/** Sorted keys and JSON semantics (undefined members dropped, like JSON.stringify would). */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : canonical(item)));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      if (value[key] !== undefined) out[key] = canonical(value[key]);
    }
    return out;
  }
  return value;
}

function removeAt(root: unknown, keys: readonly PathKey[]): void {
  let node = root;
  for (const key of keys.slice(0, -1)) {
    node = Array.isArray(node) || isPlainObject(node) ? (node as Record<PathKey, unknown>)[key] : undefined;
    if (node === undefined) return;
  }
  const last = keys.at(-1)!;
  if (Array.isArray(node) && typeof last === 'number' && last < node.length) node[last] = IGNORED;
  else if (isPlainObject(node) && typeof last === 'string') delete node[last];
}
