import { mkdir } from 'node:fs/promises';
import type { Clock } from '../../../../common/src/clock.js';
import { isWvoError } from '../../../../common/src/errors.js';
import type { LaneRole } from '../../runtime/index.js';
import {
  defaultAppSuite,
  fetchToolSurface,
  runShadow,
  selectSafeCalls,
  type RawSurface,
  type ShadowResult,
  type SkippedCall,
  type Suite,
} from '../../shadow/index.js';
import { harnessErrors } from '../errors.js';
import type { UpgradeApp } from '../upgrade-context.js';
import type { LaneImages } from './build.js';
import type { LaneTracker } from './lane-tracker.js';
import type { FreshDirs, RunLayout, SnapshotCopies } from './layout.js';
import type { UpgradeStep } from './step.js';

export interface AppShadowInput {
  id: string;
  app: UpgradeApp;
  /** The suite asked for (--suite, else the app's first suite); none = the default app suite. */
  suite: Suite | undefined;
  suiteSource: string;
  images: LaneImages;
  /** Snapshot copies (state dir or sqlite), or undefined when the app keeps no state. */
  copies: SnapshotCopies | undefined;
  /** Empty directories for an app that keeps no state. */
  empty: FreshDirs;
  lanes: LaneTracker;
  laneName: RunLayout['laneName'];
  readyTimeoutMs: number;
  clock: Clock;
  signal?: AbortSignal;
}

export interface AppShadowOutput {
  result: ShadowResult;
  surfaces: { baseline: RawSurface; candidate: RawSurface };
}

const LANES = [
  { key: 'baseline', version: 'baseline', role: 'shadow-baseline' },
  { key: 'replica', version: 'baseline', role: 'shadow-replica' },
  { key: 'candidate', version: 'candidate', role: 'shadow-candidate' },
] as const satisfies readonly { key: keyof FreshDirs; version: 'baseline' | 'candidate'; role: LaneRole }[];

/**
 * The shadow of any MCP server: baseline, a replica (noise) and candidate, each on its own copy
 * of the state (or an empty directory for a stateless app), told they are shadows when the app
 * has a way (its shadow env var). Before the suite, both versions' surfaces are read: they feed
 * the tool-surface gate, and on an app with no shadow mode they decide which calls may run
 * (read-only or vouched-for tools only; the others are reported as skipped, with why).
 */
export const appShadowStep: UpgradeStep<AppShadowInput, AppShadowOutput> = {
  name: 'shadow',
  async run(input, say) {
    const { app } = input;
    const names = LANES.map((lane) => input.laneName(lane.key));
    try {
      say(`starting ${LANES.length} lanes of ${app.name} (${app.config.shadow ? `told by ${app.config.shadow.env}=1` : 'no shadow mode: read-only tools only'})`);
      const started = await Promise.allSettled(
        LANES.map(async (lane) => {
          const stateDir = input.copies ? input.copies[lane.key] : input.empty[lane.key];
          await mkdir(stateDir, { recursive: true });
          const image = lane.version === 'baseline' ? input.images.baselineImage : input.images.candidateImage;
          const ready = await input.lanes.start(
            { name: input.laneName(lane.key), image, stateDir, mode: 'sandbox', role: lane.role, deploymentId: input.id, app: app.lane },
            { readyTimeoutMs: input.readyTimeoutMs },
          );
          return [lane.key, `${ready.url}${app.lane.mcpPath}`] as const;
        }),
      );
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw notReady(app, (failed as PromiseRejectedResult).reason);
      const url = Object.fromEntries(started.map((s) => (s as PromiseFulfilledResult<readonly [string, string]>).value)) as Record<keyof FreshDirs, string>;
      const [baseline, candidate] = await Promise.all([fetchToolSurface(url.baseline), fetchToolSurface(url.candidate)]);
      const policy = { shadowMode: Boolean(app.config.shadow), safeTools: app.config.safeTools, baseline, candidate };
      const selected = input.suite ? selectSafeCalls(input.suite, policy) : defaultAppSuite(policy);
      for (const skip of selected.skipped) say(`skipped ${skip.call}: ${skip.reason}`);
      const suite: Suite = selected.suite ?? { calls: [] };
      const result = await runShadow({
        lanes: url,
        suite,
        suiteSource: input.suiteSource,
        laneMode: { mode: 'sandbox', reason: app.config.shadow ? `app ${app.name} told by ${app.config.shadow.env}=1` : `app ${app.name} has no shadow mode: only read-only or vouched-for tools were called` },
        clock: input.clock,
        ...(input.signal ? { signal: input.signal } : {}),
        onProgress: (event) => {
          if (event.type === 'call') say(`call ${event.index + 1}/${event.total}: ${event.name}`);
        },
      });
      const withSkipped: ShadowResult = { ...result, skipped_calls: selected.skipped };
      return {
        status: result.totals.count > 0 ? 'warning' : 'ok',
        detail: {
          app: app.name,
          suite: input.suite ? input.suiteSource : 'default app suite (from tools/list)',
          calls: result.calls.length,
          skipped: selected.skipped.map((s: SkippedCall) => `${s.call}: ${s.reason}`),
          count: result.totals.count,
          answer_groups: result.totals.groups_reported,
          reported: result.totals.reported,
          cancelled: result.totals.cancelled,
          state: app.config.state.kind === 'none' ? 'none (stateless app)' : `${app.config.state.kind}: each lane on its own copy, not diffed`,
        },
        output: { result: withSkipped, surfaces: { baseline, candidate } },
      };
    } finally {
      await input.lanes.remove(names);
    }
  },
};

/** A lane of the app that never passed its health check: say which app and which fields to look at. */
function notReady(app: UpgradeApp, error: unknown): unknown {
  if (!isWvoError(error) || !['WVO_LANE_NOT_READY', 'WVO_LANE_EXITED'].includes(error.code)) return error;
  const field = /not an MCP server/.test(error.message) ? 'health' : 'port';
  return harnessErrors.create('WVO_APP_NOT_READY', `app ${app.name}: ${error.message}`, {
    subject: `apps.${app.name}.${field}`,
    hint: `check apps.${app.name}.port (${app.config.port}), mcpPath (${app.config.mcpPath}) and health (${app.config.health}) against what the server does`,
    cause: error,
  });
}
