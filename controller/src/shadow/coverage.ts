import { z } from 'zod';
import { formatJsonPath, isPlainObject, type PathKey } from './json-path.js';

/**
 * What the suite reached: per tool, which success and error paths each lane answered, and the
 * executor coverage gaps. A shadow run proves nothing about a path it never took, so the report
 * lists them next to the differences.
 */

export const COVERAGE_OUTCOMES = ['success', 'error'] as const;

/** The executor's marker for a command the live worker never recorded (replayed executor). */
export const EXECUTOR_NOT_RECORDED = 'not_recorded';

export const CoverageSchema = z.strictObject({
  tools: z.array(
    z.strictObject({
      tool: z.string(),
      calls: z.number().int().min(0),
      /** One entry per outcome and error code; counts per lane. */
      paths: z.array(
        z.strictObject({
          outcome: z.enum(COVERAGE_OUTCOMES),
          code: z.string().optional(),
          lanes: z.record(z.string(), z.number().int().min(0)),
        }),
      ),
    }),
  ),
  /** Answers with an `executor.source` of `not_recorded` anywhere inside: the command was never replayed. */
  executor_gaps: z.array(
    z.strictObject({
      tool: z.string(),
      call_index: z.number().int().min(0),
      call_name: z.string(),
      lanes: z.array(z.string()),
      paths: z.array(z.string()),
    }),
  ),
});

export type Coverage = z.infer<typeof CoverageSchema>;

export interface CoverageCall {
  readonly index: number;
  readonly name: string;
  readonly tool: string;
  /** Lane → its answer; every lane given is counted. */
  readonly outcomes: Readonly<Record<string, { readonly result: unknown; readonly isError: boolean }>>;
}

export function coverageOf(calls: readonly CoverageCall[]): Coverage {
  const tools = new Map<string, { calls: number; paths: Map<string, { outcome: 'success' | 'error'; code?: string; lanes: Record<string, number> }> }>();
  const gaps: Coverage['executor_gaps'] = [];
  for (const call of calls) {
    const tool = tools.get(call.tool) ?? { calls: 0, paths: new Map() };
    tools.set(call.tool, tool);
    tool.calls += 1;
    const gapLanes: string[] = [];
    const gapPaths = new Set<string>();
    for (const [lane, outcome] of Object.entries(call.outcomes)) {
      const code = outcome.isError ? errorCode(outcome.result) : undefined;
      const id = outcome.isError ? `error ${code ?? ''}` : 'success';
      const path = tool.paths.get(id) ?? { outcome: outcome.isError ? 'error' : 'success', ...(code === undefined ? {} : { code }), lanes: {} };
      path.lanes[lane] = (path.lanes[lane] ?? 0) + 1;
      tool.paths.set(id, path);
      const found = notRecorded(outcome.result);
      if (found.length > 0) {
        gapLanes.push(lane);
        for (const keys of found) gapPaths.add(formatJsonPath(keys));
      }
    }
    if (gapLanes.length > 0) gaps.push({ tool: call.tool, call_index: call.index, call_name: call.name, lanes: gapLanes, paths: [...gapPaths] });
  }
  return {
    tools: [...tools.entries()].map(([tool, entry]) => ({
      tool,
      calls: entry.calls,
      // Success first, then errors by code, so two runs list paths in the same order.
      paths: [...entry.paths.values()].sort((a, b) => (a.outcome === b.outcome ? (a.code ?? '').localeCompare(b.code ?? '') : a.outcome === 'success' ? -1 : 1)),
    })),
    executor_gaps: gaps,
  };
}

/** A coded error answer: `{code}` (worker tool errors) or `{error: {code}}` (JSON-RPC errors). */
export function errorCode(result: unknown): string | undefined {
  if (!isPlainObject(result)) return undefined;
  const direct = result.code;
  if (typeof direct === 'string' || typeof direct === 'number') return String(direct);
  const nested = isPlainObject(result.error) ? result.error.code : undefined;
  return typeof nested === 'string' || typeof nested === 'number' ? String(nested) : undefined;
}

/** Locations of every `executor` object whose `source` is `not_recorded` (`$..executor`). */
function notRecorded(value: unknown, prefix: PathKey[] = [], out: PathKey[][] = []): PathKey[][] {
  if (Array.isArray(value)) value.forEach((child, index) => notRecorded(child, [...prefix, index], out));
  else if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'executor' && isPlainObject(child) && child.source === EXECUTOR_NOT_RECORDED) out.push([...prefix, key]);
      notRecorded(child, [...prefix, key], out);
    }
  }
  return out;
}
