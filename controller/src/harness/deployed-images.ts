import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONTROLLER_DB_FILE, DeploymentStore, isRunning, type DeploymentRecord } from '../promotion/index.js';

/**
 * Deployments in controller.db whose images may still be started: a running one (either side),
 * or a promoted one whose old lane has not been removed yet (rollback after promotion restarts
 * its baseline). No controller.db: none.
 */
export function activeDeployments(stateRoot: string): DeploymentRecord[] {
  if (!existsSync(join(stateRoot, CONTROLLER_DB_FILE))) return [];
  const store = DeploymentStore.open(stateRoot);
  try {
    return store
      .list(Number.MAX_SAFE_INTEGER)
      .filter((r) => isRunning(r.state) || (r.state === 'promoted' && !r.baselineRemoved));
  } finally {
    store.close();
  }
}
