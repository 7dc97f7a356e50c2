import { z } from 'zod';
import { concreteKeys, formatKey, type PathKey } from './json-path.js';
import { VERDICTS } from './noise-model.js';

/**
 * Diffy's grouped view: one logical change is one group. Raw diffs are grouped by tool,
 * generalised path (array indices and id-keyed members become `[*]`) and kind, so a field added
 * to every task of every plan_next answer is one group with a count, not a row per task per call.
 */

export const GROUP_KINDS = ['addition', 'removal', 'changed_value', 'changed_type', 'error_code'] as const;
export type GroupKind = (typeof GROUP_KINDS)[number];

/** The pseudo-path of a diff in the MCP `isError` flag rather than in the result body. */
export const IS_ERROR_PATH = 'isError';

export const GroupExampleSchema = z.strictObject({
  call_index: z.number().int().min(0),
  call_name: z.string(),
  path: z.string(),
  baseline: z.unknown().optional(),
  replica: z.unknown().optional(),
  candidate: z.unknown().optional(),
  reason: z.string(),
});

export const ShadowGroupSchema = z.strictObject({
  tool: z.string(),
  /** Generalised: `$.tasks[*].rank`. */
  path: z.string(),
  kind: z.enum(GROUP_KINDS),
  verdict: z.enum(VERDICTS),
  reported: z.boolean(),
  /** Raw diffs in the group. */
  count: z.number().int().min(1),
  /** Every call the group appeared in, in suite order. */
  calls: z.array(z.strictObject({ index: z.number().int().min(0), name: z.string() })),
  example: GroupExampleSchema,
});

export type ShadowGroup = z.infer<typeof ShadowGroupSchema>;

/** What grouping needs of a raw diff (a ShadowDiff has all of it). */
export interface GroupableDiff {
  readonly tool: string;
  readonly call_index: number;
  readonly call_name: string;
  readonly path: string;
  readonly kind: 'added' | 'removed' | 'changed';
  readonly baseline?: unknown;
  readonly replica?: unknown;
  readonly candidate?: unknown;
  readonly verdict: (typeof VERDICTS)[number];
  readonly reported: boolean;
  readonly reason: string;
}

/** Per call: did the baseline or the candidate answer with an error (codes then differ in kind). */
export type ErrorAnswers = ReadonlyMap<number, boolean>;

/**
 * Group raw diffs. Groups come out in the order their first diff appears, reported ones first;
 * a group's verdict is its diffs' (diffs with different verdicts never share a group). A call
 * whose isError flag flipped took another path: its reported body diffs (the success fields gone,
 * `code` and `message` added) are that one change, so they join its `error_code` group. Likewise
 * a call that failed on both sides with another code: its message and details follow the code.
 */
export function groupDiffs(diffs: readonly GroupableDiff[], errorAnswers: ErrorAnswers = new Map()): ShadowGroup[] {
  const groups = new Map<string, ShadowGroup & { calls: { index: number; name: string }[] }>();
  const placed = diffs.map((diff) => {
    const keys = diff.path === IS_ERROR_PATH ? undefined : concreteKeys(diff.path);
    const kind = groupKind(diff, keys, errorAnswers.get(diff.call_index) ?? false);
    const path = keys === undefined ? diff.path : groupPath(keys);
    return { diff, kind, path };
  });
  // The one change a call's reported body diffs belong to: a flipped isError first, else a new code.
  const errorPath = new Map<number, string>();
  for (const pass of [IS_ERROR_PATH, undefined]) {
    for (const { diff, kind, path } of placed) {
      if (!diff.reported || kind !== 'error_code' || errorPath.has(diff.call_index)) continue;
      if (pass === undefined || diff.path === pass) errorPath.set(diff.call_index, groupId(diff, path, kind));
    }
  }
  for (const { diff, kind, path } of placed) {
    const id = (diff.reported && errorPath.get(diff.call_index)) || groupId(diff, path, kind);
    const group = groups.get(id);
    if (group) {
      group.count += 1;
      if (!group.calls.some((call) => call.index === diff.call_index)) group.calls.push({ index: diff.call_index, name: diff.call_name });
      continue;
    }
    groups.set(id, {
      tool: diff.tool,
      path,
      kind,
      verdict: diff.verdict,
      reported: diff.reported,
      count: 1,
      calls: [{ index: diff.call_index, name: diff.call_name }],
      example: {
        call_index: diff.call_index,
        call_name: diff.call_name,
        path: diff.path,
        ...pick(diff, 'baseline'),
        ...pick(diff, 'replica'),
        ...pick(diff, 'candidate'),
        reason: diff.reason,
      },
    });
  }
  const all = [...groups.values()];
  return [...all.filter((g) => g.reported), ...all.filter((g) => !g.reported)];
}

function groupId(diff: GroupableDiff, path: string, kind: GroupKind): string {
  return JSON.stringify([diff.tool, path, kind, diff.verdict]);
}

function groupKind(diff: GroupableDiff, keys: readonly PathKey[] | undefined, errorAnswer: boolean): GroupKind {
  if (keys === undefined) return 'error_code';
  if (diff.kind === 'added') return 'addition';
  if (diff.kind === 'removed') return 'removal';
  // An error answer's code field is the error path the call took, whatever its JSON type.
  if (errorAnswer && isCodeKey(keys.at(-1))) return 'error_code';
  return jsonType(diff.baseline) === jsonType(diff.candidate) ? 'changed_value' : 'changed_type';
}

function isCodeKey(key: PathKey | undefined): boolean {
  return key === 'code' || key === 'error_code';
}

function jsonType(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** `$.tasks[3].rank` → `$.tasks[*].rank`; `$.by_id['T-01'].status` → `$.by_id[*].status`. */
export function groupPath(keys: readonly PathKey[]): string {
  return '$' + keys.map((key) => (typeof key === 'number' || isIdKey(key) ? '[*]' : formatKey(key))).join('');
}

// Members of an object used as a map: numbers, `T-01`/`task_7`/`run:3`, UUIDs.
const ID_KEY = /^(\d+|[A-Za-z]+[-_:]\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
// Hex digests need length and both digits and letters (`a1`, `dead` are names, not ids).
const HEX_ID = /^(?=.*\d)(?=.*[a-f])[0-9a-f]{12,}$/i;

function isIdKey(key: string): boolean {
  return ID_KEY.test(key) || HEX_ID.test(key);
}

function pick<K extends 'baseline' | 'replica' | 'candidate'>(diff: GroupableDiff, key: K): Partial<Record<K, unknown>> {
  return Object.hasOwn(diff, key) ? ({ [key]: diff[key] } as Record<K, unknown>) : {};
}
