import { canonicalJson } from '../../../common/src/canonical-json.js';
import { isPlainObject } from './json-path.js';

/** One step of an alignment: both sides' element, or one side only. */
export type AlignedPair = readonly [before: number | undefined, after: number | undefined];

// Members that name an element of a list answer (tasks, runs, events): the first one present,
// primitive and unique on both sides is the element's identity.
const IDENTITY_FIELDS = ['id', 'task_id', 'run_id', 'event_id', 'seq', 'name', 'key'] as const;
// LCS is quadratic: lists longer than this fall back to index by index.
const MAX_CELLS = 250_000;

/**
 * Align two arrays so an element missing in the middle is one removal, not a change at every
 * later index (Diffy's lesson: one logical change, one difference).
 * Elements are matched by an identity field when every element has one, otherwise by equal
 * content; the longest common subsequence keeps order, so a reordered list still differs.
 * Unmatched elements facing each other between two matches are paired, as index-wise would.
 * Returns undefined when alignment explains the difference with no fewer elements than index-wise
 * comparison does (then the caller compares index by index, as a reordered queue expects).
 */
export function alignArrays(before: readonly unknown[], after: readonly unknown[]): AlignedPair[] | undefined {
  if (before.length * after.length > MAX_CELLS) return undefined;
  const identity = identityOf(before, after);
  const a = before.map(identity);
  const b = after.map(identity);
  // Index-wise, every position whose elements differ is a difference (plus the longer tail).
  let indexCost = Math.abs(a.length - b.length);
  for (let k = 0; k < Math.min(a.length, b.length); k++) if (a[k] !== b[k]) indexCost += 1;
  if (indexCost < 2) return undefined;
  const pairs = longestCommonSubsequence(a, b);
  // Aligned, every gap between matches costs its longer side. A list with one task gone and
  // another come in at the end (a top-N answer) costs 2 instead of one per shifted task.
  let alignedCost = 0;
  let previous: readonly [number, number] = [-1, -1];
  for (const pair of [...pairs, [a.length, b.length] as const]) {
    alignedCost += Math.max(pair[0] - previous[0] - 1, pair[1] - previous[1] - 1);
    previous = pair;
  }
  if (alignedCost >= indexCost) return undefined;
  const out: AlignedPair[] = [];
  let i = 0;
  let j = 0;
  for (const [pi, pj] of [...pairs, [a.length, b.length] as const]) {
    // Between two matches, elements on both sides replaced each other: compare them in place
    // (as index-wise would), so a changed element stays a change and not a removal plus an addition.
    while (i < pi && j < pj) out.push([i++, j++]);
    while (i < pi) out.push([i++, undefined]);
    while (j < pj) out.push([undefined, j++]);
    if (pi < a.length) out.push([i++, j++]);
  }
  return out;
}

function identityOf(before: readonly unknown[], after: readonly unknown[]): (value: unknown) => string {
  const field = IDENTITY_FIELDS.find((name) => identifies(before, name) && identifies(after, name));
  if (field === undefined) return canonicalJson;
  return (value) => `${field}=${canonicalJson((value as Record<string, unknown>)[field])}`;
}

function identifies(list: readonly unknown[], field: string): boolean {
  const seen = new Set<unknown>();
  for (const element of list) {
    if (!isPlainObject(element)) return false;
    const value = element[field];
    if (value === null || (typeof value !== 'string' && typeof value !== 'number') || seen.has(value)) return false;
    seen.add(value);
  }
  return true;
}

/** Index pairs of one longest common subsequence, in order. */
function longestCommonSubsequence(a: readonly string[], b: readonly string[]): [number, number][] {
  const width = b.length + 1;
  const table = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i * width + j] = a[i] === b[j] ? table[(i + 1) * width + j + 1]! + 1 : Math.max(table[(i + 1) * width + j]!, table[i * width + j + 1]!);
    }
  }
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) pairs.push([i++, j++]);
    else if (table[(i + 1) * width + j]! >= table[i * width + j + 1]!) i++;
    else j++;
  }
  return pairs;
}
