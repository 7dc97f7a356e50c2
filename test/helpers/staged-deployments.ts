import { DeploymentStore, buildPromotionPlan, newDeploymentRecord, parsePromotionOptions, transition, type DeploymentRecord, type PromotionEvent } from '../../controller/src/promotion/index.js';

/** Where a recorded deployment ends: `retired` is promoted with its old lane removed (past retention). */
export type RecordedEnd = 'shadowed' | 'rolled_back' | 'promoted' | 'retired';

const PATHS: Record<RecordedEnd, PromotionEvent[]> = {
  shadowed: [],
  rolled_back: [{ type: 'rollback_requested', reason: 'test' }, { type: 'rollback_complete' }],
  promoted: [{ type: 'start' }, { type: 'canary_ready' }, { type: 'switched' }, { type: 'observe_window_elapsed' }],
  retired: [{ type: 'start' }, { type: 'canary_ready' }, { type: 'switched' }, { type: 'observe_window_elapsed' }, { type: 'retention_elapsed' }],
};

/**
 * A deployment in `<stateRoot>/controller.db` naming two images, driven through the real state
 * machine to `end` (what `wvo images prune` reads to know which images a rollback may need).
 */
export function recordDeployment(stateRoot: string, id: string, baselineImage: string, candidateImage: string, end: RecordedEnd): DeploymentRecord {
  const store = DeploymentStore.open(stateRoot);
  try {
    const summary = {
      id: `up-${id}`,
      outcome: 'passed' as const,
      steps: [
        { name: 'test', status: 'ok' as const },
        { name: 'schema-compat', status: 'ok' as const },
      ],
      baseline: { lane: 'blue', image: baselineImage },
      candidate: { lane: 'green', image: candidateImage },
    };
    store.recordUpgrade(summary, 1);
    const plan = buildPromotionPlan(summary, parsePromotionOptions({ observeMs: '1m', intervalMs: '10s', retentionMs: '1h' }));
    let record = store.createDeployment(newDeploymentRecord(id, plan, 1_000));
    for (const event of PATHS[end]) {
      const at = event.type === 'retention_elapsed' ? record.updatedAt + 3_600_000 : event.type === 'observe_window_elapsed' ? record.updatedAt + 60_000 : record.updatedAt + 1_000;
      record = store.commit(transition(record, event, at));
    }
    return record;
  } finally {
    store.close();
  }
}
