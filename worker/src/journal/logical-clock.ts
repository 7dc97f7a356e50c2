import type { Db } from '../store/database.js';

/** Where a sandbox's clock starts on an empty state (no events): fixed, like the seed's epoch. */
export const LOGICAL_EPOCH_MS = Date.UTC(2025, 0, 1);
/** Each tool call moves the sandbox clock this far; readings inside a call are 1 ms apart. */
export const LOGICAL_STEP_MS = 1_000;

/**
 * Pure-ish: the sandbox clock's start from the state it was given: the latest `events.at` (every
 * write appends an event, so this is "when the snapshot's last write happened"), else the epoch.
 * Two copies of one snapshot give the same start.
 */
export function logicalStart(db: Db): number {
  let latest: string | null = null;
  try {
    latest = (db.prepare('SELECT MAX(at) AS at FROM events').get() as { at: string | null }).at;
  } catch {
    // No events table yet (an empty state before migrations): the epoch.
  }
  const parsed = latest === null ? Number.NaN : Date.parse(latest);
  return Number.isFinite(parsed) ? parsed : LOGICAL_EPOCH_MS;
}

/**
 * The sandbox's only time source: a deterministic function of the call sequence. Call n (1, 2, ...)
 * reads start + n·step, then +1 ms for each further reading, so two sandbox lanes given the same
 * snapshot and the same calls write the same timestamps.
 */
export class LogicalClock {
  private calls = 0;
  constructor(
    readonly start: number,
    private readonly step = LOGICAL_STEP_MS,
  ) {}

  /** A new call's readings (call this in call order: the sandbox runs calls one at a time). */
  beginCall(): () => number {
    this.calls += 1;
    const base = this.start + this.calls * this.step;
    let readings = 0;
    return () => base + readings++;
  }
}
