import { quantile, sampleSize, type Distribution } from './distribution.js';
import type { ToolSample } from './samples.js';

/** Tools needed to tell a lane-wide shift from one tool's. */
export const MIN_SHIFT_TOOLS = 3;
/** Timed calls per tool and lane for its median to count towards the shift (a median of 5 is already steady). */
export const SHIFT_MIN_SAMPLES = 5;

export interface LaneShift {
  /** Median over the tools of (candidate median / baseline median). */
  readonly factor: number;
  /** The tools it was measured on (each with enough timed calls on both lanes). */
  readonly tools: readonly string[];
}

/**
 * How much slower (or faster) the candidate's whole process ran than the baseline's in the
 * interval. Scheduling on shared cores, a cold JIT and GC move every tool of a process together
 * (we measured identical code 2–4× apart per interval on two busy cores); a regression in one
 * tool moves that tool alone. The median of the per-tool ratios is that common factor, robust to
 * the one tool that differs. Undefined with fewer than MIN_SHIFT_TOOLS comparable tools.
 */
export function laneShift(candidate: Readonly<Record<string, ToolSample>>, baseline: Readonly<Record<string, ToolSample>>, minSamples = SHIFT_MIN_SAMPLES): LaneShift | undefined {
  const ratios: Array<{ tool: string; ratio: number }> = [];
  for (const tool of Object.keys(candidate).sort()) {
    const c = candidate[tool]?.latency;
    const b = baseline[tool]?.latency;
    if (!c || !b || sampleSize(c) < minSamples || sampleSize(b) < minSamples) continue;
    const mc = quantile(c, 0.5)!;
    const mb = quantile(b, 0.5)!;
    if (mb > 0 && mc > 0) ratios.push({ tool, ratio: mc / mb });
  }
  if (ratios.length < MIN_SHIFT_TOOLS) return undefined;
  const sorted = ratios.map((r) => r.ratio).sort((x, y) => x - y);
  const mid = sorted.length / 2;
  const factor = sorted.length % 2 ? sorted[Math.floor(mid)]! : Math.sqrt(sorted[mid - 1]! * sorted[mid]!);
  return { factor, tools: ratios.map((r) => r.tool) };
}

/** The distribution with every value divided by `factor` (the candidate, with the lane's shift taken out). */
export function scaleDistribution(distribution: Distribution, factor: number): Distribution {
  return { binned: distribution.binned, points: distribution.points.map((p) => ({ value: p.value / factor, count: p.count })) };
}
