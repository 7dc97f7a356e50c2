import { z } from 'zod';
import { isWvoError } from '../../../common/src/errors.js';
import { parseDuration } from '../promotion/index.js';
import { soakErrors } from './errors.js';
import type { SoakSettings } from './soak-record.js';

/** Defaults: a checkpoint every 500 calls or 60 s; fail beyond 10 000 calls of lag. */
export const DEFAULT_SOAK_SETTINGS: SoakSettings = {
  checkpointCalls: 500,
  checkpointMs: 60_000,
  maxLagCalls: 10_000,
  forMs: null,
  pageSize: 200,
  pollMs: 200,
};

const duration = z.union([z.string(), z.number()]);
const count = z.union([z.number(), z.string().regex(/^\d+$/, 'a positive integer').transform(Number)]).pipe(z.number().int().min(1));

/** What the CLI and the API send (`wvo soak start [upgrade] --for 72h ...`, `POST /soaks`). */
export const SoakStartInputSchema = z.strictObject({
  upgradeId: z.string().min(1).optional(),
  for: duration.optional(),
  checkpointCalls: count.optional(),
  checkpointEvery: duration.optional(),
  maxLag: count.optional(),
  pageSize: count.pipe(z.number().max(1_000)).optional(),
  poll: duration.optional(),
  forkTimeout: duration.optional(),
});
export type SoakStartInput = z.input<typeof SoakStartInputSchema>;

export interface SoakStartOptions {
  readonly upgradeId?: string;
  readonly settings: SoakSettings;
  /** How long the fork may wait for a moment with no live call between its transactions. */
  readonly forkTimeoutMs?: number;
}

/** Validates once for both adapters; a bad field is WVO_SOAK_OPTION_INVALID naming it. */
export function parseSoakStart(input: unknown): SoakStartOptions {
  const parsed = SoakStartInputSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.code === 'unrecognized_keys' ? issue.keys[0] : issue?.path.join('.');
    throw soakErrors.create('WVO_SOAK_OPTION_INVALID', `${field || '(root)'}: ${issue?.message ?? 'invalid'}`, { subject: field || '(root)', hint: 'wvo soak start --help' });
  }
  const data = parsed.data;
  const ms = (value: string | number | undefined, field: string) => {
    if (value === undefined) return undefined;
    try {
      return parseDuration(value, field);
    } catch (error) {
      if (!isWvoError(error)) throw error;
      throw soakErrors.create('WVO_SOAK_OPTION_INVALID', `${field}: ${error.message}`, { subject: field, hint: 'Use 72h, 30m, 10s, 500ms.' });
    }
  };
  const d = DEFAULT_SOAK_SETTINGS;
  const forkTimeoutMs = ms(data.forkTimeout, 'forkTimeout');
  return {
    ...(data.upgradeId && data.upgradeId !== 'latest' ? { upgradeId: data.upgradeId } : {}),
    ...(forkTimeoutMs !== undefined ? { forkTimeoutMs } : {}),
    settings: {
      forMs: ms(data.for, 'for') ?? d.forMs,
      checkpointCalls: data.checkpointCalls ?? d.checkpointCalls,
      checkpointMs: ms(data.checkpointEvery, 'checkpointEvery') ?? d.checkpointMs,
      maxLagCalls: data.maxLag ?? d.maxLagCalls,
      pageSize: data.pageSize ?? d.pageSize,
      pollMs: ms(data.poll, 'poll') ?? d.pollMs,
    },
  };
}
