import type { Clock } from '../../../common/src/clock.js';
import { writeWorkerManagerFile } from './worker-manager-file.js';
import type { EffectRunner } from './effect-runner.js';
import { writePromotionPlanFile } from './promotion-plan-file.js';
import { workerManagerView } from './worker-manager-view.js';

/**
 * The file-writing half of an EffectRunner, ready to spread into the executor's runner:
 * promotion_plan.json under `experimentsRoot`, worker_manager.json under `stateRoot`.
 */
export function artifactWriters(roots: {
  experimentsRoot: string;
  stateRoot: string;
  clock: Clock;
}): Pick<EffectRunner, 'writePlan' | 'writeWorkerManager'> {
  return {
    async writePlan(deployment, transitions) {
      writePromotionPlanFile(roots.experimentsRoot, deployment, transitions);
    },
    async writeWorkerManager(deployment, transitions) {
      writeWorkerManagerFile(roots.stateRoot, workerManagerView(deployment, transitions, roots.clock.now()));
    },
  };
}
