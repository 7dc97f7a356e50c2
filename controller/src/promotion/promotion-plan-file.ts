import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonAtomic } from '../../../common/src/json-file.js';
import type { DeploymentRecord } from './deployment.js';
import type { TransitionRow } from './deployment-store.js';
import { describeEffect } from './effects.js';
import { EVENT_TYPES } from './events.js';
import { intervalRecordSchema } from './interval-record.js';
import { flagChangeSchema, laneRefSchema, promotionPlanSchema } from './plan.js';
import { DEPLOYMENT_STATES, type DeploymentState } from './states.js';
import { promotionErrors } from './errors.js';

export const PROMOTION_OUTCOMES = ['in_progress', 'promoted', 'rolled_back'] as const;
export type PromotionOutcome = (typeof PROMOTION_OUTCOMES)[number];

const iso = z.iso.datetime();

/** `experiments/mcp/upgrade/<id>/promotion_plan.json` (declared once; read back through it). */
export const promotionPlanFileSchema = z.object({
  deployment_id: z.string(),
  upgrade_id: z.string(),
  state: z.enum(DEPLOYMENT_STATES),
  outcome: z.enum(PROMOTION_OUTCOMES),
  baseline: laneRefSchema,
  candidate: laneRefSchema,
  active_flags: z.array(flagChangeSchema),
  plan: promotionPlanSchema,
  transitions: z.array(
    z.object({
      from: z.enum(DEPLOYMENT_STATES),
      to: z.enum(DEPLOYMENT_STATES),
      event: z.enum(EVENT_TYPES),
      reason: z.string(),
      at: iso,
      effects: z.array(z.string()),
    }),
  ),
  rollback_reason: z.string().nullable(),
  created_at: iso,
  updated_at: iso,
  promoted_at: iso.nullable(),
  retention_ends_at: iso.nullable(),
  /** The old lane runs (no traffic) until then: --keep-warm. Absent in files written before it existed. */
  warm_until: iso.nullable().default(null),
  finished_at: iso.nullable(),
  /** The candidate's share of new sessions now, percent: 0 before traffic moves, a step's weight, 100 after the switch. */
  candidate_weight: z.number().min(0).max(100).default(0),
  /** Every analysed interval (candidate vs baseline verdict, score, reasons, figures); absent in older files. */
  analyses: z.array(intervalRecordSchema.extend({ at: iso })).default([]),
});
export type PromotionPlanFile = z.infer<typeof promotionPlanFileSchema>;

/** Where an upgrade's artifacts live: `<experimentsRoot>/mcp/upgrade/<id>/promotion_plan.json`. */
export function promotionPlanPath(experimentsRoot: string, upgradeId: string): string {
  return join(experimentsRoot, 'mcp', 'upgrade', upgradeId, 'promotion_plan.json');
}

export function outcomeOf(state: DeploymentState): PromotionOutcome {
  return state === 'promoted' || state === 'rolled_back' ? state : 'in_progress';
}

const toIso = (ms: number): string => new Date(ms).toISOString();
const toIsoOrNull = (ms: number | null): string | null => (ms === null ? null : toIso(ms));

/** Pure: the file's content from the store's record and history. */
export function buildPromotionPlanFile(record: DeploymentRecord, transitions: readonly TransitionRow[]): PromotionPlanFile {
  return {
    deployment_id: record.id,
    upgrade_id: record.upgradeId,
    state: record.state,
    outcome: outcomeOf(record.state),
    baseline: record.plan.baseline,
    candidate: record.plan.candidate,
    active_flags: record.activeFlags,
    plan: record.plan,
    transitions: transitions.map((t) => ({
      from: t.from,
      to: t.to,
      event: t.event,
      reason: t.reason,
      at: toIso(t.at),
      effects: t.effects.map(describeEffect),
    })),
    rollback_reason: record.rollback?.reason ?? null,
    created_at: toIso(record.createdAt),
    updated_at: toIso(record.updatedAt),
    promoted_at: toIsoOrNull(record.promotedAt),
    retention_ends_at: toIsoOrNull(record.retentionEndsAt),
    warm_until: toIsoOrNull(record.warmUntil),
    finished_at: toIsoOrNull(record.finishedAt),
    candidate_weight: candidateWeight(record),
    analyses: record.analyses.map((a) => ({ ...a, at: toIso(a.at) })),
  };
}

function candidateWeight(record: DeploymentRecord): number {
  switch (record.state) {
    case 'weighted':
      return record.observation?.weight ?? 0;
    case 'switched':
    case 'observing':
    case 'promoted':
      return 100;
    default:
      return 0;
  }
}

/** Write atomically (temp + rename): a reader never sees half a plan. Returns the path. */
export function writePromotionPlanFile(
  experimentsRoot: string,
  record: DeploymentRecord,
  transitions: readonly TransitionRow[],
): string {
  const path = promotionPlanPath(experimentsRoot, record.upgradeId);
  writeJsonAtomic(path, promotionPlanFileSchema.parse(buildPromotionPlanFile(record, transitions)));
  return path;
}

export function readPromotionPlanFile(path: string): PromotionPlanFile {
  try {
    return readJsonFile(path, promotionPlanFileSchema);
  } catch (error) {
    throw promotionErrors.create('WVO_PROMOTION_PLAN_INVALID', `cannot read ${path}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, {
      subject: path,
      hint: 'it is rewritten on every transition; `wvo resume` rewrites it from the controller database',
      cause: error,
    });
  }
}
