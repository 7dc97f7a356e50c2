import { parseDuration } from '../promotion/index.js';
import { fleetErrors } from './errors.js';

/**
 * Progressive waves (pure): `1,25%,rest` — a representative first wave, then larger ones — and
 * per-wave observe windows (`10m,2m`). Sizes are counts, percentages of the whole fleet (rounded
 * up, at least 1) or `rest` (last only: what is left). Listed sizes that leave deployments over
 * without `rest` repeat the last size (the final wave may be partial, as with a fixed size).
 * Every refusal names the flag or config field it came from (`field`), before anything starts.
 */
export type WaveSize = { kind: 'count'; n: number } | { kind: 'percent'; p: number } | { kind: 'rest' };

/** One planned wave: its members in config order and its observe window (null: the promotion's own). */
export interface PlannedWave {
  members: string[];
  observeMs: number | null;
}

function invalid(field: string, why: string, hint: string): never {
  throw fleetErrors.create('WVO_FLEET_WAVE_INVALID', `${field}: ${why}`, { subject: field, hint });
}

/** A list given as `1,25%,rest` (flag) or `[1, "25%", "rest"]` (config, API) → its items. */
function items(input: unknown, field: string, hint: string): Array<string | number> {
  const list = typeof input === 'string' ? input.split(',').map((s) => s.trim()) : input;
  if (!Array.isArray(list) || list.length === 0 || list.some((v) => (typeof v !== 'string' && typeof v !== 'number') || v === '')) {
    invalid(field, `expected a non-empty comma-separated list (got ${JSON.stringify(input)})`, hint);
  }
  return list as Array<string | number>;
}

const SIZES_HINT = 'wave sizes are counts, percentages of the fleet or `rest` (last): 1,25%,rest';

export function parseWaveSizes(input: unknown, field: string): WaveSize[] {
  const list = items(input, field, SIZES_HINT);
  return list.map((raw, i): WaveSize => {
    const text = String(raw).trim();
    if (text === 'rest') {
      if (i !== list.length - 1) invalid(field, `\`rest\` must be the last wave (item ${i + 1} of ${list.length})`, SIZES_HINT);
      return { kind: 'rest' };
    }
    const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
    if (percent) {
      const p = Number(percent[1]);
      if (!(p > 0 && p <= 100)) invalid(field, `wave ${i + 1} is ${text}: a percentage must be above 0 % and at most 100 %`, SIZES_HINT);
      return { kind: 'percent', p };
    }
    const n = typeof raw === 'number' ? raw : /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isInteger(n) || n < 1) invalid(field, `wave ${i + 1} is ${JSON.stringify(raw)}: a whole number of deployments, at least 1, a percentage or \`rest\``, SIZES_HINT);
    return { kind: 'count', n };
  });
}

export function parseWaveObserve(input: unknown, field: string): number[] {
  const hint = 'observe windows per wave, the last repeating: 10m,2m';
  return items(input, field, hint).map((raw, i) => {
    let ms: number;
    try {
      ms = parseDuration(raw);
    } catch (error) {
      invalid(field, `wave ${i + 1}: ${(error as Error).message}`, hint);
    }
    if (!(ms > 0)) invalid(field, `wave ${i + 1}: an observe window must be longer than 0 (got ${JSON.stringify(raw)})`, hint);
    return ms;
  });
}

/** The deployment count of each wave for a fleet of `total`. */
export function waveCounts(total: number, sizes: readonly WaveSize[], field: string): number[] {
  const counts = sizes.filter((s) => s.kind !== 'rest').map((s) => (s.kind === 'count' ? s.n : Math.max(1, Math.ceil((s.p * total) / 100))));
  const listed = counts.reduce((a, b) => a + b, 0);
  if (listed > total) {
    invalid(field, `waves of ${counts.join(' + ')} = ${listed} deployments, but the fleet has ${total}`, `shorten the list or end it with \`rest\`; percentages are of the whole fleet, rounded up`);
  }
  const left = total - listed;
  if (sizes.at(-1)!.kind === 'rest') return left > 0 ? [...counts, left] : counts;
  const out = [...counts];
  const last = counts.at(-1)!;
  for (let remaining = left; remaining > 0; remaining -= last) out.push(Math.min(last, remaining));
  return out;
}

/** Deployments in config order into waves of `counts`, each with its observe window (the last window repeats). */
export function planProgressiveWaves(names: readonly string[], counts: readonly number[], observeMs: readonly number[] = []): PlannedWave[] {
  let at = 0;
  return counts.map((count, i) => {
    const members = names.slice(at, at + count);
    at += count;
    return { members, observeMs: observeMs.length ? observeMs[Math.min(i, observeMs.length - 1)]! : null };
  });
}

/** How a wave plan reads back (`1,25%,rest`), for the record and the table. */
export function formatWaveSizes(sizes: readonly WaveSize[]): string {
  return sizes.map((s) => (s.kind === 'count' ? String(s.n) : s.kind === 'percent' ? `${s.p}%` : 'rest')).join(',');
}
