import { resolve } from 'node:path';
import { z } from 'zod';
import { parseOptions } from '../../../common/src/options.js';

/**
 * One options type for `wvo upgrade` and `POST /upgrades` (STYLE habit 3): both build it and
 * call the same function, so defaults and validation live here only.
 */
export const upgradeOptionsSchema = z.strictObject({
  workspace: z.string().default('.'),
  allowDirty: z.boolean().default(false),
  skipTests: z.boolean().default(false),
  /** Suite file (JSON or YAML); default: the built-in suite over the seed tools. */
  suite: z.string().optional(),
  /** An image (docker), a built tree (local), or a git ref of the workspace. Default: the live lane's image, else HEAD. */
  baseline: z.string().optional(),
  promote: z.boolean().default(false),
  allowContract: z.boolean().default(false),
  ci: z.boolean().default(false),
  keepStage: z.boolean().default(false),
  /**
   * Shadow in strict DRY_RUN (every call rolled back, copies verified unchanged) instead of
   * sandbox lanes that commit to their copies; chosen anyway when a lane cannot sandbox.
   */
  strictDryRun: z.boolean().default(false),
  /** The staged copy's test command (argv). */
  testCommand: z.array(z.string()).min(1).default(['npm', 'run', 'test:unit']),
  /** Per-lane readiness deadline. */
  readyTimeoutMs: z.number().int().positive().default(60_000),
  minFreeMb: z.number().int().nonnegative().default(256),
  /** The app to upgrade (wvo.config.json `apps`); default our worker. */
  app: z.string().min(1).default('worker'),
  /** Image-to-image: the candidate image (docker) or command image (local); skips stage, build and test. */
  candidate: z.string().min(1).optional(),
  /** Promote although the tool-surface gate found a breaking change. */
  allowBreaking: z.boolean().default(false),
});
export type UpgradeOptions = z.output<typeof upgradeOptionsSchema>;
export type UpgradeOptionsInput = z.input<typeof upgradeOptionsSchema>;

export function parseUpgradeOptions(input: unknown, source = 'options'): UpgradeOptions {
  const options = parseOptions(upgradeOptionsSchema, input, source);
  return { ...options, workspace: resolve(options.workspace) };
}

/** Exit codes of `wvo upgrade`: 0 all checks passed, 2 completed with warnings, 1 hard failure. */
export function upgradeExitCode(outcome: 'passed' | 'warnings' | 'failed', ci: boolean): 0 | 1 | 2 {
  if (outcome === 'failed') return 1;
  if (outcome === 'warnings') return ci ? 0 : 2;
  return 0;
}

export const FINAL_LINES = {
  passed: '[upgrade] All checks passed.',
  warnings: '[upgrade] Completed with warnings (review noted shadow differences).',
} as const;
