import { z } from 'zod';
import { FLEET_FAILURE_POLICIES, type WvoConfig } from '../config/index.js';
import { parseDuration, parsePromotionOptions } from '../promotion/index.js';
import { fleetErrors } from './errors.js';

/**
 * The one options type of `wvo promote --fleet` and `POST /fleets` (STYLE habit 3). Wave
 * settings override config `fleet.waves`; `promotion` is what every deployment's own promotion
 * gets (observe window, interval, gates…, as `wvo promote` takes them).
 */
export const fleetPromotionOptionsSchema = z.strictObject({
  /** The fleet controller's staged upgrade (the representative run); default the newest. */
  upgradeId: z.string().min(1).optional(),
  waveSize: z.number().optional(),
  bootLimit: z.number().optional(),
  pause: z.union([z.string(), z.number()]).optional(),
  onFailure: z.enum(FLEET_FAILURE_POLICIES).optional(),
  promotion: z.record(z.string(), z.unknown()).default({}),
});
export type FleetPromotionOptions = z.output<typeof fleetPromotionOptionsSchema>;

/** Wave settings as used: every field checked, each error naming where its value came from. */
export interface WaveSettings {
  size: number;
  bootLimit: number;
  pauseMs: number;
  onFailure: (typeof FLEET_FAILURE_POLICIES)[number];
}

export function parseFleetOptions(input: unknown): FleetPromotionOptions {
  const parsed = fleetPromotionOptionsSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.join('.') || '(options)';
    throw fleetErrors.create('WVO_FLEET_OPTION_INVALID', `invalid fleet promotion option ${path}: ${issue.message}`, { subject: path, hint: 'see `wvo promote --help`' });
  }
  if ('upgradeId' in parsed.data.promotion) {
    throw fleetErrors.create('WVO_FLEET_OPTION_INVALID', 'promotion.upgradeId is set per deployment by the fleet', { subject: 'promotion.upgradeId', hint: 'name the upgrade as upgradeId' });
  }
  parsePromotionOptions(parsed.data.promotion); // WVO_INVALID_PROMOTION_OPTION naming the option, before anything starts
  return parsed.data;
}

/** Pure: wave size, boot limit, pause and policy from the options over config `fleet.waves`. */
export function resolveWaveSettings(config: WvoConfig, options: FleetPromotionOptions): WaveSettings {
  const waves = config.fleet?.waves ?? { size: 1, pause: 0 };
  const pick = <T>(flag: T | undefined, flagName: string, file: T | undefined, fileName: string): { value: T | undefined; field: string } =>
    flag !== undefined ? { value: flag, field: flagName } : { value: file, field: fileName };
  const count = (value: number | undefined, field: string, fallback: number): number => {
    const n = value ?? fallback;
    if (!Number.isInteger(n) || n < 1) {
      throw fleetErrors.create('WVO_FLEET_WAVE_INVALID', `${field} must be a whole number of deployments, at least 1 (got ${n})`, {
        subject: field,
        hint: 'a wave of 0 deployments would never finish; use 1 for one host at a time',
      });
    }
    return n;
  };
  const size = pick(options.waveSize, 'waveSize', waves.size, 'fleet.waves.size');
  const sizeValue = count(size.value, size.field, 1);
  const boot = pick(options.bootLimit, 'bootLimit', waves.bootLimit, 'fleet.waves.bootLimit');
  const bootLimit = Math.min(count(boot.value, boot.field, sizeValue), sizeValue);
  const pause = pick(options.pause, 'pause', waves.pause, 'fleet.waves.pause');
  let pauseMs = 0;
  if (pause.value !== undefined && !/^\s*0+\s*(ms|s|m|h)?\s*$/.test(String(pause.value))) {
    try {
      pauseMs = parseDuration(pause.value);
    } catch (error) {
      throw fleetErrors.create('WVO_FLEET_WAVE_INVALID', `${pause.field}: ${(error as Error).message}`, { subject: pause.field, hint: 'a duration such as 30s, 2m or 0' });
    }
  }
  return { size: sizeValue, bootLimit, pauseMs, onFailure: options.onFailure ?? config.fleet?.onFailure ?? 'keep' };
}

/** Pure: deployments in config order, `size` per wave. */
export function planWaves(names: readonly string[], size: number): string[][] {
  const waves: string[][] = [];
  for (let i = 0; i < names.length; i += size) waves.push(names.slice(i, i + size));
  return waves;
}
