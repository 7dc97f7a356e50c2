import type { Distribution } from './distribution.js';

/**
 * What one interval gives the judge for each lane under the same traffic (candidate and
 * baseline). Plain data: the observe step builds it from the proxy's metrics (see
 * `laneSampleFromScrapes`), the workers' status and the probes it ran.
 */
export interface ToolSample {
  /** Finished `tools/call` requests in the interval. */
  readonly calls: number;
  /** Of those, failed: HTTP error or no answer, JSON-RPC error, or a result with `isError: true`. */
  readonly errors: number;
  /** Latency in seconds (a histogram's buckets, or raw values). */
  readonly latency?: Distribution;
}

/** Worker measures read from each lane's status (both lanes read the same live state). */
export interface WorkerMeasures {
  /** 0..1. */
  readonly tokenPressure?: number;
  /** Queue counts by name. */
  readonly queue?: Readonly<Record<string, number>>;
  /** Critic failures recorded by this lane during the interval. */
  readonly newCriticFailures?: number;
}

export interface LaneSample {
  /** Every request the proxy forwarded to the lane in the interval. */
  readonly requests?: number;
  /** Of those, answered 5xx or not at all. */
  readonly transportErrors?: number;
  readonly tools: Readonly<Record<string, ToolSample>>;
  readonly workers?: WorkerMeasures;
}

export const PROBE_LANES = ['candidate', 'baseline'] as const;
export type ProbeLane = (typeof PROBE_LANES)[number];

/** One semantic probe (a synthetic MCP call with expectations) run against one lane. */
export interface ProbeResult {
  readonly name: string;
  readonly lane: ProbeLane;
  readonly ok: boolean;
  /** Why it failed (which expectation). */
  readonly reason?: string;
}

export interface IntervalInput {
  readonly candidate: LaneSample;
  readonly baseline: LaneSample;
  readonly probes?: readonly ProbeResult[];
}
