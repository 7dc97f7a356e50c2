import { z } from 'zod';
import { intervalRecordSchema } from './interval-record.js';
import { DEPLOYMENT_STATES } from './states.js';
import { flagChangeSchema, promotionPlanSchema, type PromotionPlan } from './plan.js';

/**
 * The current observation phase: phase k observes after k flags were flipped. In a weighted step
 * (state `weighted`) `step` is the index into the plan's weighted steps and `weight` the share set.
 */
export const observationSchema = z.object({
  phase: z.number().int().min(0),
  step: z.number().int().min(0).nullable().default(null),
  /** The candidate's share of new sessions in this phase, percent (100 after the switch). */
  weight: z.number().min(0).max(100).default(100),
  phaseStartedAt: z.number(),
  phaseEndsAt: z.number(),
  checks: z.number().int().min(0),
  failed: z.number().int().min(0),
  consecutiveFailed: z.number().int().min(0),
  lastReasons: z.array(z.string()),
});
export type Observation = z.infer<typeof observationSchema>;

/** The persisted deployment (declared once; the store and the plan file read through it). */
export const deploymentRecordSchema = z.object({
  id: z.string().min(1),
  upgradeId: z.string().min(1),
  state: z.enum(DEPLOYMENT_STATES),
  plan: promotionPlanSchema,
  /** Flags flipped (or being flipped: write-ahead) in order; emptied once reverted. */
  activeFlags: z.array(flagChangeSchema),
  observation: observationSchema.nullable(),
  rollback: z
    .object({ from: z.enum(DEPLOYMENT_STATES), reason: z.string(), requestedAt: z.number() })
    .nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
  switchedAt: z.number().nullable(),
  promotedAt: z.number().nullable(),
  retentionEndsAt: z.number().nullable(),
  /** Promoted with keepWarmMs: the old lane runs (drained) until then, and is stopped after. */
  warmUntil: z.number().nullable().default(null),
  finishedAt: z.number().nullable(),
  /** The old lane was removed after the retention window: rollback is no longer possible. */
  baselineRemoved: z.boolean(),
  /** Analysed intervals, oldest first (bounded: MAX_INTERVAL_RECORDS). */
  analyses: z.array(intervalRecordSchema).default([]),
  /** Optimistic-concurrency counter, bumped by the store on every write. */
  version: z.number().int().min(0),
});
export type DeploymentRecord = z.infer<typeof deploymentRecordSchema>;

export function newDeploymentRecord(id: string, plan: PromotionPlan, now: number): DeploymentRecord {
  return {
    id,
    upgradeId: plan.upgradeId,
    state: 'shadowed',
    plan,
    activeFlags: [],
    observation: null,
    rollback: null,
    createdAt: now,
    updatedAt: now,
    switchedAt: null,
    promotedAt: null,
    retentionEndsAt: null,
    warmUntil: null,
    finishedAt: null,
    baselineRemoved: false,
    analyses: [],
    version: 0,
  };
}
