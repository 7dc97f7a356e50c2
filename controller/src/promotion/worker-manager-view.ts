import type { LaneStatus, WorkerManagerFile } from './worker-manager-file.js';
import type { DeploymentRecord } from './deployment.js';
import type { TransitionRow } from './deployment-store.js';

/**
 * Pure: worker_manager.json as a deployment leaves the lanes. Written by the `write_worker_manager`
 * effect, which comes after the switch and stop effects it describes.
 */
export function workerManagerView(record: DeploymentRecord, transitions: readonly TransitionRow[], now: number): WorkerManagerFile {
  const { baseline, candidate } = record.plan;
  const [base, cand, active] = laneStatuses(record);
  const lastSwitch = [...transitions].reverse().find((t) => t.effects.some((e) => e.kind === 'switch_proxy'));
  const switchEffect = lastSwitch?.effects.find((e) => e.kind === 'switch_proxy');
  return {
    active_lane: active === 'candidate' ? candidate.lane : baseline.lane,
    lanes: [
      { name: baseline.lane, image: baseline.image, version: null, status: base },
      { name: candidate.lane, image: candidate.image, version: record.upgradeId, status: cand },
    ],
    versions: { [baseline.lane]: baseline.image, [candidate.lane]: candidate.image },
    last_switch:
      lastSwitch && switchEffect?.kind === 'switch_proxy'
        ? {
            from: switchEffect.from,
            to: switchEffect.to,
            at: new Date(lastSwitch.at).toISOString(),
            reason: lastSwitch.reason,
            deployment_id: record.id,
          }
        : null,
    deployment: { id: record.id, upgrade_id: record.upgradeId, state: record.state },
    updated_at: new Date(now).toISOString(),
  };
}

function laneStatuses(record: DeploymentRecord): [LaneStatus, LaneStatus, 'baseline' | 'candidate'] {
  switch (record.state) {
    case 'shadowed':
      return ['active', 'stopped', 'baseline'];
    case 'canary_live':
    case 'weighted':
      return ['active', 'canary', 'baseline'];
    case 'switched':
    case 'observing':
      return ['draining', 'active', 'candidate'];
    case 'promoted':
      return [record.baselineRemoved ? 'removed' : 'stopped', 'active', 'candidate'];
    case 'rolling_back':
    case 'rolled_back':
      return ['active', 'stopped', 'baseline'];
  }
}
