import { z } from 'zod';
import { FLEET_FAILURE_POLICIES, FLEET_SHADOW_MODES } from '../config/index.js';

/** A fleet promotion as a whole. `failed`: stopped on a failure, promoted members kept (policy keep). */
export const FLEET_STATES = ['running', 'promoted', 'failed', 'rolled_back'] as const;
export type FleetState = (typeof FLEET_STATES)[number];
export const SETTLED_FLEET_STATES: readonly FleetState[] = ['promoted', 'failed', 'rolled_back'];

/**
 * One deployment inside a fleet promotion: `pending` → (`shadowing`, with `--shadow
 * per-deployment`: its own shadow run) → `promoting` → `promoted` | `rolled_back` (its own
 * promotion rolled back) | `failed` (refused before it began, or its shadow failed the gate);
 * after a failure the members not yet begun are `skipped`, and promoted ones become `reverted`
 * under policy rollback.
 */
export const MEMBER_STATES = ['pending', 'shadowing', 'promoting', 'promoted', 'rolled_back', 'failed', 'skipped', 'reverted'] as const;
/** Members in flight (counted against the boot limit). */
export const INFLIGHT_MEMBER_STATES: readonly MemberState[] = ['shadowing', 'promoting'];

/** A deployment's own shadow run (per-deployment shadow): written before it runs, completed after. */
export const memberShadowSchema = z.object({
  /** The harness run id (its steps recorded in the deployment's controller.db). */
  runId: z.string(),
  outcome: z.enum(['passed', 'warnings', 'failed']).nullable(),
  /** Differences the shadow reported (upgrade_shadow.json `count`); null until it ran. */
  count: z.number().int().nullable(),
  artifactsDir: z.string().nullable(),
  shadowJson: z.string().nullable(),
});
export type MemberShadow = z.infer<typeof memberShadowSchema>;
export type MemberState = (typeof MEMBER_STATES)[number];

export const fleetMemberSchema = z.object({
  name: z.string(),
  wave: z.number().int().min(0),
  state: z.enum(MEMBER_STATES),
  /** Its deployment id in its own controller.db, once begun. */
  deploymentId: z.string().nullable(),
  /** The per-deployment upgrade recorded in its controller.db. */
  upgradeId: z.string(),
  baselineImage: z.string().nullable(),
  candidateImage: z.string(),
  reason: z.string().nullable(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  /** Its own shadow run (per-deployment shadow only). */
  shadow: memberShadowSchema.nullable().optional(),
});
export type FleetMember = z.infer<typeof fleetMemberSchema>;

export const fleetRecordSchema = z.object({
  id: z.string(),
  upgradeId: z.string(),
  candidateImage: z.string(),
  state: z.enum(FLEET_STATES),
  /** The fixed wave size, or the largest progressive wave. */
  waveSize: z.number().int().min(1),
  /** The sizes as asked: `2` (fixed) or `1,25%,rest` (progressive); absent in records before them. */
  waveSpec: z.string().optional(),
  bootLimit: z.number().int().min(1),
  pauseMs: z.number().int().min(0),
  onFailure: z.enum(FLEET_FAILURE_POLICIES),
  /** Whose shadow gates each promotion; absent in records before per-deployment shadows (representative). */
  shadow: z.enum(FLEET_SHADOW_MODES).optional(),
  /** What each deployment's promotion was given (parsePromotionOptions input). */
  promotion: z.record(z.string(), z.unknown()),
  members: z.array(fleetMemberSchema),
  /**
   * Each wave as planned at the start (its size and observe window, persisted so a resumed fleet
   * runs the same plan; absent in records before progressive waves) and when it began and ended (ms epoch).
   */
  waves: z.array(
    z.object({
      index: z.number().int(),
      size: z.number().int().min(1).optional(),
      /** Its members' observe window; null: the promotion options' own. */
      observeMs: z.number().int().positive().nullable().optional(),
      startedAt: z.number().nullable(),
      finishedAt: z.number().nullable(),
    }),
  ),
  /** Not before this may the next wave begin (the pause, persisted so a resumed fleet keeps it). */
  nextWaveAt: z.number().nullable(),
  reason: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
  finishedAt: z.number().nullable(),
});
export type FleetRecord = z.infer<typeof fleetRecordSchema>;
