import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * `<stateRoot>/analytics/upgrade_shadow.json`, written by the upgrade harness after a shadow run.
 * Extra keys are allowed (a newer harness may add some); these three are the contract.
 */
export const UpgradeShadowSummary = z.object({
  /** Reported answer groups + reported state differences (the harness's shadow.json totals.count). */
  count: z.number().int().nonnegative(),
  /** The split of `count` a newer harness writes; read, not shown. */
  answer_groups: z.number().int().nonnegative().optional(),
  state_differences: z.number().int().nonnegative().optional(),
  path: z.string(),
  recorded_at: z.iso.datetime({ offset: true }),
});
export type UpgradeShadowSummary = z.infer<typeof UpgradeShadowSummary>;

export const SHADOW_SUMMARY_FILE = join('analytics', 'upgrade_shadow.json');

/** `.queue.shadow_diffs` in orchestrator_status. */
export interface ShadowDiffs {
  readonly count: number;
  readonly recorded_at: string | null;
  readonly path: string | null;
}

export interface StatusWarning {
  readonly code: string;
  readonly message: string;
  readonly subject?: string;
}

export const NO_SHADOW_DIFFS: ShadowDiffs = { count: 0, recorded_at: null, path: null };

/** Missing file → count 0. Malformed file → count 0 plus a warning; never throws. */
export function readShadowDiffs(stateRoot: string): { diffs: ShadowDiffs; warning?: StatusWarning } {
  const file = join(stateRoot, SHADOW_SUMMARY_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { diffs: NO_SHADOW_DIFFS };
    return { diffs: NO_SHADOW_DIFFS, warning: invalid(`cannot read: ${(error as Error).message}`) };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { diffs: NO_SHADOW_DIFFS, warning: invalid(`not JSON: ${(error as Error).message}`) };
  }
  const parsed = UpgradeShadowSummary.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return { diffs: NO_SHADOW_DIFFS, warning: invalid(`${where}: ${issue?.message ?? 'invalid'}`) };
  }
  const { count, recorded_at, path } = parsed.data;
  return { diffs: { count, recorded_at, path } };
}

function invalid(reason: string): StatusWarning {
  return {
    code: 'WVO_SHADOW_SUMMARY_INVALID',
    message: `state/${SHADOW_SUMMARY_FILE.replaceAll('\\', '/')} is malformed (${reason}); shadow diffs reported as 0`,
    subject: SHADOW_SUMMARY_FILE.replaceAll('\\', '/'),
  };
}
