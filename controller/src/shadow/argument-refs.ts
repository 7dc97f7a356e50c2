import { isPlainObject, parseJsonPath, selectPaths, valueAtPath, type PathKey } from './json-path.js';

/**
 * An argument taken from an earlier call's answer, so a suite works on any state without naming
 * ids: `{"task_id": {"$from": "top", "path": "$.tasks[0].id"}}` uses the first task `top` listed.
 * The value is read from the reference lane (the baseline) and sent to every lane alike, so the
 * lanes are always asked the same question. A reference that selects nothing becomes `null`.
 */
export interface ArgumentRef {
  readonly $from: string;
  readonly path: string;
}

export function isArgumentRef(value: unknown): value is ArgumentRef {
  return (
    isPlainObject(value) &&
    Object.keys(value).length === 2 &&
    typeof value.$from === 'string' &&
    typeof value.path === 'string'
  );
}

/** Every reference inside `args`, with where it sits (for suite validation errors). */
export function findArgumentRefs(args: unknown, at: PathKey[] = []): { ref: ArgumentRef; keys: PathKey[] }[] {
  if (isArgumentRef(args)) return [{ ref: args, keys: at }];
  if (Array.isArray(args)) return args.flatMap((item, index) => findArgumentRefs(item, [...at, index]));
  if (isPlainObject(args)) return Object.entries(args).flatMap(([key, item]) => findArgumentRefs(item, [...at, key]));
  return [];
}

/** `args` with every reference replaced by the first value its path selects in the named answer. */
export function resolveArgumentRefs(args: Record<string, unknown>, answers: ReadonlyMap<string, unknown>): Record<string, unknown> {
  return resolve(args, answers) as Record<string, unknown>;
}

function resolve(value: unknown, answers: ReadonlyMap<string, unknown>): unknown {
  if (isArgumentRef(value)) {
    const parsed = parseJsonPath(value.path);
    const answer = answers.get(value.$from);
    if (!parsed.ok || answer === undefined) return null;
    const [first] = selectPaths(answer, parsed.segments);
    return first === undefined ? null : valueAtPath(answer, first).value;
  }
  if (Array.isArray(value)) return value.map((item) => resolve(item, answers));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolve(item, answers)]));
  return value;
}
