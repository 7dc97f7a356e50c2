import { z } from 'zod';

/** `running` (a driver replays), `stopped` (asked to), `finished` (`--for` ran out), `failed` (a coded error; record kept). */
export const SOAK_STATES = ['running', 'stopped', 'finished', 'failed'] as const;
export type SoakState = (typeof SOAK_STATES)[number];

/** What the soak compares, and how often it checks parity. */
export const SoakSettingsSchema = z.strictObject({
  /** A parity checkpoint after this many replayed calls... */
  checkpointCalls: z.number().int().min(1),
  /** ...or this long since the last one, whichever comes first. */
  checkpointMs: z.number().int().min(1),
  /** The soak fails (WVO_SOAK_LAGGING) when it is more than this many calls behind the live head. */
  maxLagCalls: z.number().int().min(1),
  /** How long to soak (null: until stopped). */
  forMs: z.number().int().min(1).nullable(),
  /** Journal page size per pull. */
  pageSize: z.number().int().min(1).max(1_000),
  /** Pause between pulls when the journal has nothing new. */
  pollMs: z.number().int().min(1),
});
export type SoakSettings = z.infer<typeof SoakSettingsSchema>;

export const SoakErrorSchema = z.strictObject({ code: z.string(), message: z.string(), subject: z.string().optional() });

/** Who drives a running soak: a dead owner's soak is resumed by the next `wvo soak start` or `wvo serve`. */
export const SoakOwnerSchema = z.strictObject({ pid: z.number().int(), host: z.string(), heartbeat_at: z.number().int() });

/** Where the fork's moment was taken: the live state volume on its host (volume mode), or this machine's state dir. */
export const ForkSourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('live-volume'), host: z.string(), volume: z.string(), image: z.string(), duration_ms: z.number().int().min(0) }),
  z.strictObject({ kind: z.literal('state-root'), root: z.string() }),
]);
export type ForkSource = z.infer<typeof ForkSourceSchema>;

export const SoakRecordSchema = z.strictObject({
  id: z.string(),
  upgrade_id: z.string(),
  state: z.enum(SOAK_STATES),
  live_lane: z.string(),
  live_url: z.string(),
  baseline_image: z.string(),
  candidate_image: z.string(),
  /** Lane names (replica: the baseline's image; candidate: the upgrade's). */
  lanes: z.strictObject({ replica: z.string(), candidate: z.string() }),
  /** Where the forks, the lanes' directories and the checkpoint copies live. */
  dir: z.string(),
  settings: SoakSettingsSchema,
  /** The database (relative to a lane's state dir) that holds the journal: the one compared at checkpoints. */
  database: z.string(),
  /** The journal seq the fork holds (every entry up to it is in the fork). */
  fork_seq: z.number().int().min(0),
  /** Where the fork came from (absent in records written before it was kept). */
  fork_source: ForkSourceSchema.optional(),
  /** The last entry both lanes replayed and whose answers were compared. */
  last_seq: z.number().int().min(0),
  /** Identity (seq + sha256 of the entry) of the last replayed entry: a different one at that seq = a rewrite. */
  last_entry: z.strictObject({ seq: z.number().int(), sha256: z.string() }).nullable(),
  replayed: z.number().int().min(0),
  /** Replayed calls whose candidate answer differs (reported verdicts only). */
  answer_diffs: z.number().int().min(0),
  /** Reported state differences at the latest checkpoint. */
  state_diffs: z.number().int().min(0),
  /** When the soak first saw any reported difference (null: clean so far). */
  first_diff_at: z.number().int().nullable(),
  lag_calls: z.number().int().min(0),
  lag_ms: z.number().int().min(0),
  checkpoints: z.number().int().min(0),
  /** The last checkpoint's seq and time (the fork itself is checkpoint 0). */
  checkpoint_seq: z.number().int().min(0),
  checkpoint_at: z.number().int(),
  lane_restarts: z.number().int().min(0),
  stop_requested: z.boolean(),
  owner: SoakOwnerSchema.nullable(),
  error: SoakErrorSchema.nullable(),
  started_at: z.number().int(),
  updated_at: z.number().int(),
  ends_at: z.number().int().nullable(),
  finished_at: z.number().int().nullable(),
});
export type SoakRecord = z.infer<typeof SoakRecordSchema>;

/** One parity checkpoint: both lanes at `seq`, their databases diffed table by table. */
export interface SoakCheckpoint {
  readonly soak_id: string;
  readonly seq: number;
  /** Identity of entry `seq` (null for the fork of an empty journal): re-checked after a restart from here. */
  readonly entry: { seq: number; sha256: string } | null;
  readonly at: number;
  readonly reported: number;
  /** The state room's section (databases → groups with example rows). */
  readonly state: unknown;
  /** The copies a crashed lane restarts from. */
  readonly dir: string;
}

/** One replayed call whose answers differ (noise included, flagged by `reported`). */
export interface SoakAnswerDiff {
  readonly soak_id: string;
  readonly seq: number;
  readonly tool: string;
  readonly args: unknown;
  readonly reported: number;
  readonly diffs: unknown;
  readonly at: number;
}

/** Pure: how long the soak has been clean: from its start to its last checkpoint (0 once anything differed or it failed). */
export function cleanSoakMs(record: SoakRecord): number {
  if (record.first_diff_at !== null || record.error !== null || record.answer_diffs > 0 || record.state_diffs > 0) return 0;
  return Math.max(0, record.checkpoint_at - record.started_at);
}
