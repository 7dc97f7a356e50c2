import { alignArrays } from './array-alignment.js';
import { formatJsonPath, isPlainObject, type PathKey } from './json-path.js';

export const DIFF_KINDS = ['added', 'removed', 'changed'] as const;
export type DiffKind = (typeof DIFF_KINDS)[number];

/**
 * One structural difference from `before` to `after`. `added`: the path exists only in `after`;
 * `removed`: only in `before`; `changed`: both, with different leaf values or types.
 */
export interface Diff {
  readonly path: string;
  readonly keys: readonly PathKey[];
  readonly kind: DiffKind;
  readonly before?: unknown;
  readonly after?: unknown;
}

/**
 * Structural diff of two JSON values by path. Objects are compared key by key (order does not
 * matter), arrays index by index (order does: a reordered queue is a real difference) unless an
 * alignment explains the difference with fewer elements (array-alignment.ts), and a
 * type change (object → array, number → string) is one `changed` at the path where it happens.
 */
export function diffJson(before: unknown, after: unknown): Diff[] {
  const out: Diff[] = [];
  walk(before, after, [], out);
  return out;
}

function walk(before: unknown, after: unknown, keys: PathKey[], out: Diff[]): void {
  if (Array.isArray(before) && Array.isArray(after)) {
    const aligned = alignArrays(before, after);
    if (aligned !== undefined) {
      // Matched and removed elements keep the baseline's index, so a replica (a copy of the
      // baseline) is looked up at the same path; added ones take the candidate's.
      for (const [i, j] of aligned) {
        if (i !== undefined && j !== undefined) walk(before[i], after[j], [...keys, i], out);
        else if (i !== undefined) out.push(entry('removed', [...keys, i], before[i], undefined));
        else out.push(entry('added', [...keys, j!], undefined, after[j!]));
      }
      return;
    }
    const shared = Math.min(before.length, after.length);
    for (let i = 0; i < shared; i++) walk(before[i], after[i], [...keys, i], out);
    for (let i = shared; i < before.length; i++) out.push(entry('removed', [...keys, i], before[i], undefined));
    for (let i = shared; i < after.length; i++) out.push(entry('added', [...keys, i], undefined, after[i]));
    return;
  }
  if (isPlainObject(before) && isPlainObject(after)) {
    const names = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const name of [...names].sort()) {
      const inBefore = Object.hasOwn(before, name);
      const inAfter = Object.hasOwn(after, name);
      if (inBefore && inAfter) walk(before[name], after[name], [...keys, name], out);
      else if (inBefore) out.push(entry('removed', [...keys, name], before[name], undefined));
      else out.push(entry('added', [...keys, name], undefined, after[name]));
    }
    return;
  }
  if (!sameLeaf(before, after)) out.push(entry('changed', keys, before, after));
}

function entry(kind: DiffKind, keys: PathKey[], before: unknown, after: unknown): Diff {
  return {
    path: formatJsonPath(keys),
    keys,
    kind,
    ...(kind === 'added' ? {} : { before }),
    ...(kind === 'removed' ? {} : { after }),
  };
}

/** Leaves compare by value (-0 equals 0, NaN equals NaN); mismatched containers never match. */
function sameLeaf(a: unknown, b: unknown): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** Deep equality in the differ's sense (no differences). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return diffJson(a, b).length === 0;
}
