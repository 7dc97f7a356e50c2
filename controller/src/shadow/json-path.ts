/**
 * The JSON path subset suites use for ignore rules and diffs use for reporting.
 *
 * Grammar: `$` then any of `.name`, `['name']`, `["name"]`, `[3]`, `[*]`, `.*`, and recursive
 * descent `..name`, `..*`, `..[3]`. Enough for `$.tasks[*].updated_at` and `$..recorded_at`;
 * filters and slices are deliberately absent (an ignore rule should be readable at a glance).
 */

/** One step of a concrete location inside a JSON value: an object key or an array index. */
export type PathKey = string | number;

export type PathSegment =
  | { readonly type: 'key'; readonly key: string }
  | { readonly type: 'index'; readonly index: number }
  | { readonly type: 'wildcard' }
  | { readonly type: 'descend' };

export type ParsedPath =
  | { readonly ok: true; readonly segments: readonly PathSegment[] }
  | { readonly ok: false; readonly error: string };

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const DOT_NAME = /^[^.[\]\s]+/;

/** Parse a JSON path; returns why it is invalid instead of throwing (callers attach the context). */
export function parseJsonPath(text: string): ParsedPath {
  if (!text.startsWith('$')) return { ok: false, error: `must start with "$": ${text}` };
  const segments: PathSegment[] = [];
  let i = 1;
  while (i < text.length) {
    const rest = text.slice(i);
    if (rest.startsWith('..')) {
      segments.push({ type: 'descend' });
      i += 2;
      // `..[...]` keeps the bracket for the next loop turn; `..name` and `..*` are read here.
      if (text[i] === '[') continue;
      const step = readDotStep(text.slice(i));
      if (!step) return { ok: false, error: `expected a name or * after ".." at ${i}: ${text}` };
      segments.push(step.segment);
      i += step.length;
    } else if (rest.startsWith('.')) {
      const step = readDotStep(rest.slice(1));
      if (!step) return { ok: false, error: `expected a name or * after "." at ${i}: ${text}` };
      segments.push(step.segment);
      i += 1 + step.length;
    } else if (rest.startsWith('[')) {
      const step = readBracket(rest);
      if (typeof step === 'string') return { ok: false, error: `${step} at ${i}: ${text}` };
      segments.push(step.segment);
      i += step.length;
    } else {
      return { ok: false, error: `unexpected "${text[i]}" at ${i}: ${text}` };
    }
  }
  if (segments.at(-1)?.type === 'descend') return { ok: false, error: `path ends with "..": ${text}` };
  return { ok: true, segments };
}

function readDotStep(text: string): { segment: PathSegment; length: number } | undefined {
  if (text.startsWith('*')) return { segment: { type: 'wildcard' }, length: 1 };
  const name = DOT_NAME.exec(text)?.[0];
  return name ? { segment: { type: 'key', key: name }, length: name.length } : undefined;
}

function readBracket(text: string): { segment: PathSegment; length: number } | string {
  const close = /^\[\s*(\*|\d+)\s*\]/.exec(text);
  if (close) {
    const inner = close[1]!;
    const segment: PathSegment =
      inner === '*' ? { type: 'wildcard' } : { type: 'index', index: Number(inner) };
    return { segment, length: close[0].length };
  }
  const quote = text[1];
  if (quote !== "'" && quote !== '"') return 'expected [n], [*] or a quoted name';
  let key = '';
  for (let j = 2; j < text.length; j++) {
    const ch = text[j]!;
    if (ch === '\\') {
      const next = text[j + 1];
      if (next === undefined) return 'unterminated escape';
      key += next;
      j++;
    } else if (ch === quote) {
      if (text[j + 1] !== ']') return 'expected "]" after the quoted name';
      return { segment: { type: 'key', key }, length: j + 2 };
    } else {
      key += ch;
    }
  }
  return 'unterminated quoted name';
}

/** `['queue','ready',0,'id']` → `$.queue.ready[0].id`; odd keys are bracket-quoted. */
export function formatJsonPath(keys: readonly PathKey[]): string {
  return '$' + keys.map((key) => (typeof key === 'number' ? `[${key}]` : formatKey(key))).join('');
}

/** Array indices replaced by `[*]`: the same field across every element (and every call). */
export function generaliseJsonPath(keys: readonly PathKey[]): string {
  return '$' + keys.map((key) => (typeof key === 'number' ? '[*]' : formatKey(key))).join('');
}

/** One object key as it appears in a formatted path: `.name` or `['odd key']`. */
export function formatKey(key: string): string {
  if (IDENTIFIER.test(key)) return `.${key}`;
  return `['${key.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}']`;
}

/** The keys of a concrete path (`$.a[0].b`), or undefined when it has wildcards or does not parse. */
export function concreteKeys(path: string): PathKey[] | undefined {
  const parsed = parseJsonPath(path);
  if (!parsed.ok) return undefined;
  const keys: PathKey[] = [];
  for (const segment of parsed.segments) {
    if (segment.type === 'key') keys.push(segment.key);
    else if (segment.type === 'index') keys.push(segment.index);
    else return undefined;
  }
  return keys;
}

/** Every concrete location in `value` that `segments` selects, in document order. */
export function selectPaths(value: unknown, segments: readonly PathSegment[]): PathKey[][] {
  const found: PathKey[][] = [];
  const visit = (node: unknown, at: number, prefix: PathKey[]): void => {
    if (at === segments.length) {
      found.push(prefix);
      return;
    }
    const segment = segments[at]!;
    switch (segment.type) {
      case 'key':
        if (isPlainObject(node) && Object.hasOwn(node, segment.key)) {
          visit(node[segment.key], at + 1, [...prefix, segment.key]);
        }
        return;
      case 'index':
        if (Array.isArray(node) && segment.index < node.length) {
          visit(node[segment.index], at + 1, [...prefix, segment.index]);
        }
        return;
      case 'wildcard':
        for (const [key, child] of children(node)) visit(child, at + 1, [...prefix, key]);
        return;
      case 'descend':
        // `..x` applies x here and at every depth below.
        visit(node, at + 1, prefix);
        for (const [key, child] of children(node)) visit(child, at, [...prefix, key]);
        return;
    }
  };
  visit(value, 0, []);
  return dedupe(found);
}

/** The value at a concrete location, or `found: false` when the path does not exist there. */
export function valueAtPath(root: unknown, keys: readonly PathKey[]): { found: boolean; value?: unknown } {
  let node = root;
  for (const key of keys) {
    const exists =
      typeof key === 'number'
        ? Array.isArray(node) && key < node.length
        : isPlainObject(node) && Object.hasOwn(node, key);
    if (!exists) return { found: false };
    node = (node as Record<PathKey, unknown>)[key];
  }
  return { found: true, value: node };
}

function children(node: unknown): [PathKey, unknown][] {
  if (Array.isArray(node)) return node.map((child, index) => [index, child]);
  if (isPlainObject(node)) return Object.entries(node);
  return [];
}

function dedupe(paths: PathKey[][]): PathKey[][] {
  const seen = new Set<string>();
  return paths.filter((path) => {
    const id = JSON.stringify(path);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
