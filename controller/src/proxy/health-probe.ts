import type { SurfaceDigest } from './surface-digest.js';

/** One health check's verdict. */
export interface ProbeResult {
  readonly healthy: boolean;
  /** Why not healthy, in words an operator can act on. */
  readonly reason?: string;
  /** What the lane advertises (MCP checks only). */
  readonly surface?: SurfaceDigest;
}

/** A way of checking one lane (HTTP GET of a path, or an MCP exchange). */
export interface HealthProbe {
  check(): Promise<ProbeResult>;
  /** Free what the probe holds on the lane (an MCP session). */
  close(): Promise<void>;
}
