import { z } from 'zod';
import { FLEET_FAILURE_POLICIES } from '../config/index.js';

/** A fleet promotion as a whole. `failed`: stopped on a failure, promoted members kept (policy keep). */
export const FLEET_STATES = ['running', 'promoted', 'failed', 'rolled_back'] as const;
export type FleetState = (typeof FLEET_STATES)[number];
export const SETTLED_FLEET_STATES: readonly FleetState[] = ['promoted', 'failed', 'rolled_back'];

/**
 * One deployment inside a fleet promotion: `pending` → `promoting` → `promoted` | `rolled_back`
 * (its own promotion rolled back) | `failed` (refused before it began); after a failure the
 * members not yet begun are `skipped`, and promoted ones become `reverted` under policy rollback.
 */
export const MEMBER_STATES = ['pending', 'promoting', 'promoted', 'rolled_back', 'failed', 'skipped', 'reverted'] as const;
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
