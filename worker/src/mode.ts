import { WorkerError } from './errors.js';

/**
 * How a worker treats its state and its executor (DESIGN §3):
 * - `live`: commits, spawns commands and records each run (executor_runs);
 * - `dry_run` (WVO_DRY_RUN=1): every call rolled back, nothing spawned, the files never written;
 * - `sandbox` (WVO_SANDBOX=1): for a PRIVATE snapshot copy: calls commit to the copy (later calls
 *   see earlier writes), the executor spawns nothing and replays the runs the live worker recorded.
 */
export const WORKER_MODES = ['live', 'dry_run', 'sandbox'] as const;
export type WorkerMode = (typeof WORKER_MODES)[number];

/** Pure: the mode from the two switches; both at once is a startup error naming both env vars. */
export function resolveWorkerMode(options: { dryRun?: boolean; sandbox?: boolean }): WorkerMode {
  if (options.dryRun && options.sandbox) {
    throw new WorkerError('WVO_WORKER_MODE_CONFLICT', 'WVO_DRY_RUN=1 and WVO_SANDBOX=1 cannot be combined', {
      subject: 'WVO_DRY_RUN,WVO_SANDBOX',
      hint: 'Pick one: WVO_DRY_RUN=1 never writes its state (any lane on live state); WVO_SANDBOX=1 commits to a private snapshot copy.',
      exitCode: 2,
    });
  }
  if (options.dryRun) return 'dry_run';
  return options.sandbox ? 'sandbox' : 'live';
}
