import { z } from 'zod';
import { FLEET_FAILURE_POLICIES, type WvoConfig } from '../config/index.js';
import { parseDuration, parsePromotionOptions } from '../promotion/index.js';
import { fleetErrors } from './errors.js';
import { formatWaveSizes, parseWaveObserve, parseWaveSizes, planProgressiveWaves, waveCounts, type PlannedWave, type WaveSize } from './wave-plan.js';

/**
 * The one options type of `wvo promote --fleet` and `POST /fleets` (STYLE habit 3). Wave
 * settings override config `fleet.waves`; `promotion` is what every deployment's own promotion
 * gets (observe window, interval, gates…, as `wvo promote` takes them).
 */
export const fleetPromotionOptionsSchema = z.strictObject({
  /** The fleet controller's staged upgrade (the representative run); default the newest. */
  upgradeId: z.string().min(1).optional(),
  waveSize: z.number().optional(),
  /** Progressive wave sizes (`--waves 1,25%,rest`); not with waveSize. */
  waves: z.union([z.string(), z.array(z.union([z.number(), z.string()]))]).optional(),
  /** Observe window per wave (`--wave-observe 10m,2m`, the last repeating); overrides promotion.observeMs. */
  waveObserve: z.union([z.string(), z.array(z.union([z.number(), z.string()]))]).optional(),
  bootLimit: z.number().optional(),
  pause: z.union([z.string(), z.number()]).optional(),
  onFailure: z.enum(FLEET_FAILURE_POLICIES).optional(),
  promotion: z.record(z.string(), z.unknown()).default({}),
});
export type FleetPromotionOptions = z.output<typeof fleetPromotionOptionsSchema>;

/** Wave settings as used: every field checked, each error naming where its value came from. */
export interface WaveSettings {
  /** Fixed wave size (null when progressive `sizes` are given). */
  size: number | null;
  /** Progressive sizes and the flag or field they came from (for refusals once the fleet's size is known). */
  sizes: { list: WaveSize[]; field: string } | null;
  /** Observe window per wave, the last repeating; empty: each promotion's own. */
  observeMs: number[];
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
  const waves: { size?: number; sizes?: Array<number | string>; observe?: Array<number | string>; bootLimit?: number; pause?: string | number } = config.fleet?.waves ?? {};
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
  const fixed = pick(options.waveSize, 'waveSize', waves.size, 'fleet.waves.size');
  const listed = pick(options.waves, 'waves', waves.sizes, 'fleet.waves.sizes');
  if (options.waveSize !== undefined && options.waves !== undefined) {
    throw fleetErrors.create('WVO_FLEET_WAVE_INVALID', 'waves (--waves) and waveSize (--wave-size) are both given', { subject: 'waves', hint: 'use one: --wave-size N for fixed waves, --waves 1,25%,rest for progressive ones' });
  }
  if (waves.size !== undefined && waves.sizes !== undefined) {
    throw fleetErrors.create('WVO_FLEET_WAVE_INVALID', 'fleet.waves.sizes and fleet.waves.size are both set', { subject: 'fleet.waves.sizes', hint: 'keep one: size for fixed waves, sizes for progressive ones' });
  }
  // The flag given wins over either config form.
  const progressive = options.waves !== undefined || (options.waveSize === undefined && waves.sizes !== undefined);
  const sizes = progressive ? { list: parseWaveSizes(listed.value, listed.field), field: listed.field } : null;
  const sizeValue = progressive ? null : count(fixed.value, fixed.field, 1);
  const observe = pick(options.waveObserve, 'waveObserve', waves.observe, 'fleet.waves.observe');
  const observeMs = observe.value === undefined ? [] : parseWaveObserve(observe.value, observe.field);
  const boot = pick(options.bootLimit, 'bootLimit', waves.bootLimit, 'fleet.waves.bootLimit');
  // Progressive: unbounded here; the runner caps it at the largest planned wave.
  const bootLimit = sizeValue === null ? count(boot.value, boot.field, Number.MAX_SAFE_INTEGER) : Math.min(count(boot.value, boot.field, sizeValue), sizeValue);
  const pause = pick(options.pause, 'pause', waves.pause, 'fleet.waves.pause');
  let pauseMs = 0;
  if (pause.value !== undefined && !/^\s*0+\s*(ms|s|m|h)?\s*$/.test(String(pause.value))) {
    try {
      pauseMs = parseDuration(pause.value);
    } catch (error) {
      throw fleetErrors.create('WVO_FLEET_WAVE_INVALID', `${pause.field}: ${(error as Error).message}`, { subject: pause.field, hint: 'a duration such as 30s, 2m or 0' });
    }
  }
  return { size: sizeValue, sizes, observeMs, bootLimit, pauseMs, onFailure: options.onFailure ?? config.fleet?.onFailure ?? 'keep' };
}

/** Pure: the fleet's waves from its settings (fixed or progressive), each with its observe window. */
export function planFleetWaves(names: readonly string[], settings: WaveSettings): PlannedWave[] {
  const counts = settings.sizes ? waveCounts(names.length, settings.sizes.list, settings.sizes.field) : planWaves(names, settings.size ?? 1).map((w) => w.length);
  return planProgressiveWaves(names, counts, settings.observeMs);
}

/** How the settings' sizes read back: `2` (fixed) or `1,25%,rest`. */
export function waveSpec(settings: WaveSettings): string {
  return settings.sizes ? formatWaveSizes(settings.sizes.list) : String(settings.size);
}

/** Pure: deployments in config order, `size` per wave. */
export function planWaves(names: readonly string[], size: number): string[][] {
  const waves: string[][] = [];
  for (let i = 0; i < names.length; i += size) waves.push(names.slice(i, i + size));
  return waves;
}
