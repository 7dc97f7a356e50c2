import type { Clock } from '../../../../common/src/clock.js';
import type { LaneRole } from '../../runtime/lane-runtime.js';
import { runShadow, type ShadowResult, type Suite } from '../../shadow/index.js';
import type { LaneImages } from './build.js';
import type { LaneTracker } from './lane-tracker.js';
import type { RunLayout, SnapshotCopies } from './layout.js';
import type { UpgradeStep } from './step.js';

const SHADOW_ROLES = {
  baseline: 'shadow-baseline',
  replica: 'shadow-replica',
  candidate: 'shadow-candidate',
} as const satisfies Record<string, LaneRole>;

export interface ShadowInput {
  id: string;
  suite: Suite;
  suiteSource: string;
  images: LaneImages;
  copies: SnapshotCopies;
  lanes: LaneTracker;
  laneName: RunLayout['laneName'];
  readyTimeoutMs: number;
  clock: Clock;
  signal?: AbortSignal;
}

/**
 * The suite against three DRY_RUN lanes on identical copies: the baseline twice (its replica
 * measures noise) and the candidate. The lanes are removed before the step ends.
 */
export const shadowStep: UpgradeStep<ShadowInput, ShadowResult> = {
  name: 'shadow',
  async run(input, say) {
    const { id, images, copies, lanes } = input;
    const names = { baseline: input.laneName('baseline'), replica: input.laneName('replica'), candidate: input.laneName('candidate') };
    const start = (name: string, image: string, stateDir: string, role: LaneRole) =>
      lanes.start({ name, image, stateDir, dryRun: true, role, deploymentId: id }, { readyTimeoutMs: input.readyTimeoutMs });
    try {
      say('starting three DRY_RUN lanes (baseline, replica, candidate)');
      const [baseline, replica, candidate] = await Promise.all([
        start(names.baseline, images.baselineImage, copies.baseline, SHADOW_ROLES.baseline),
        start(names.replica, images.baselineImage, copies.replica, SHADOW_ROLES.replica),
        start(names.candidate, images.candidateImage, copies.candidate, SHADOW_ROLES.candidate),
      ]);
      const shadow = await runShadow({
        lanes: { baseline: baseline.url, replica: replica.url, candidate: candidate.url },
        suite: input.suite,
        suiteSource: input.suiteSource,
        clock: input.clock,
        ...(input.signal ? { signal: input.signal } : {}),
        onProgress: (event) => {
          if (event.type === 'call') say(`call ${event.index + 1}/${event.total}: ${event.name}`);
        },
      });
      const { reported, cancelled } = shadow.totals;
      return {
        status: reported > 0 ? 'warning' : 'ok',
        detail: { calls: shadow.calls.length, reported, cancelled, tools: [...new Set(shadow.diffs.filter((d) => d.reported).map((d) => d.tool))] },
        output: shadow,
      };
    } finally {
      // The step ends with its lanes gone, whatever happened.
      await lanes.remove(Object.values(names));
    }
  },
};
