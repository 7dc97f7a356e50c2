import type { LaneRuntime } from '../../runtime/index.js';
import type { ShadowResult, Suite } from '../../shadow/index.js';
import { checkSchemaCompat } from '../schema-compat.js';
import type { LaneImages } from './build.js';
import type { LaneTracker } from './lane-tracker.js';
import type { RunLayout } from './layout.js';
import type { UpgradeStep } from './step.js';

export interface SchemaCompatInput {
  id: string;
  runtime: LaneRuntime;
  images: LaneImages;
  /** The snapshot copy reserved for this check (it is migrated for real). */
  stateDir: string;
  lanes: LaneTracker;
  laneName: RunLayout['laneName'];
  readyTimeoutMs: number;
  suite: Suite;
  shadow: ShadowResult;
  /** How the shadow's lanes ran: the baseline replays its calls the same way. */
  mode: 'sandbox' | 'dry_run';
}

export interface SchemaCompatOutput {
  safe: boolean;
  reason?: string;
}

/** Is rolling back safe once the candidate migrated the state? (DESIGN §4 step 8; schema-compat.ts.) */
export const schemaCompatStep: UpgradeStep<SchemaCompatInput, SchemaCompatOutput> = {
  name: 'schema-compat',
  async run(input, say) {
    const compat = await checkSchemaCompat({
      runtime: input.runtime,
      candidateImage: input.images.candidateImage,
      baselineImage: input.images.baselineImage,
      stateDir: input.stateDir,
      laneName: input.laneName,
      deploymentId: input.id,
      readyTimeoutMs: input.readyTimeoutMs,
      compatReadyTimeoutMs: Math.min(input.readyTimeoutMs, 15_000),
      suite: input.suite,
      shadow: input.shadow,
      mode: input.mode,
      track: (name) => input.lanes.track(name),
      untrack: (name) => input.lanes.untrack(name),
      say,
    });
    return {
      status: compat.safe ? 'ok' : 'warning',
      detail: {
        rollback_safe: compat.safe,
        ...(compat.reason ? { reason: compat.reason } : {}),
        ...(compat.safe ? {} : { promote: 'refused unless --allow-contract' }),
        migrations: compat.migrations,
      },
      output: { safe: compat.safe, ...(compat.reason ? { reason: compat.reason } : {}) },
    };
  },
};
