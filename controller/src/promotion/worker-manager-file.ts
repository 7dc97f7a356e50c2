import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from '../../../common/src/json-file.js';
import { promotionErrors } from './errors.js';

/** How a lane stands from the proxy's and the runtime's point of view. */
export const LANE_STATUS = ['active', 'canary', 'draining', 'stopped', 'removed'] as const;
export type LaneStatus = (typeof LANE_STATUS)[number];

const iso = z.iso.datetime();

/**
 * `state/analytics/worker_manager.json`: lanes, the active lane, versions, the last switch
 * (DESIGN §5). Declared once; dashboards and `wvo status` read it back through this schema.
 */
export const workerManagerFileSchema = z.object({
  active_lane: z.string(),
  lanes: z.array(
    z.object({
      name: z.string(),
      image: z.string(),
      version: z.string().nullable(),
      status: z.enum(LANE_STATUS),
    }),
  ),
  /** lane → image (or version), for the dashboards' version table. */
  versions: z.record(z.string(), z.string()),
  last_switch: z
    .object({ from: z.string(), to: z.string(), at: iso, reason: z.string(), deployment_id: z.string().nullable() })
    .nullable(),
  deployment: z.object({ id: z.string(), upgrade_id: z.string(), state: z.string() }).nullable(),
  updated_at: iso,
});
export type WorkerManagerFile = z.infer<typeof workerManagerFileSchema>;

export function workerManagerPath(stateRoot: string): string {
  return join(stateRoot, 'analytics', 'worker_manager.json');
}

/** Atomic (temp + rename); validated before it is written. Returns the path. */
export function writeWorkerManagerFile(stateRoot: string, content: WorkerManagerFile): string {
  const path = workerManagerPath(stateRoot);
  writeJsonAtomic(path, workerManagerFileSchema.parse(content));
  return path;
}

export function readWorkerManagerFile(stateRoot: string): WorkerManagerFile | undefined {
  const path = workerManagerPath(stateRoot);
  try {
    return readJsonFile(path, workerManagerFileSchema);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw promotionErrors.create('WVO_WORKER_MANAGER_INVALID', `cannot read ${path}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, {
      subject: path,
      hint: 'it is rewritten on every switch; delete it and run `wvo resume` or `wvo status` to rewrite it',
      cause: error,
    });
  }
}
