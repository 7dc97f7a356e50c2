import { WvoError } from '../../../common/src/errors.js';
import { promotionErrors } from './errors.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/**
 * `10m`, `30s`, `500ms`, `1h`, `1m30s` → milliseconds. A bare number is milliseconds (the HTTP
 * API sends numbers). Zero and negative durations are refused: a zero observe window would
 * promote without looking.
 */
export function parseDuration(input: string | number, subject = 'duration'): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input > 0 && Number.isInteger(input)) return input;
    throw invalid(String(input), subject);
  }
  const text = input.trim();
  if (/^\d+$/.test(text)) return parseDuration(Number(text), subject);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw invalid(input, subject);
  const ms = parts.reduce((sum, [, value, unit]) => sum + Number(value) * UNIT_MS[unit as keyof typeof UNIT_MS], 0);
  if (!(ms > 0) || !Number.isInteger(ms)) throw invalid(input, subject);
  return ms;
}

/** The shortest exact spelling, for logs and plan files: 600000 → `10m`. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0ms';
  let rest = ms;
  let out = '';
  for (const unit of ['h', 'm', 's'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * UNIT_MS[unit];
    }
  }
  return rest > 0 ? `${out}${rest}ms` : out;
}

function invalid(input: string, subject: string): WvoError {
  return promotionErrors.create('WVO_INVALID_DURATION', `not a duration: "${input}"`, {
    subject,
    hint: 'use a positive whole number of milliseconds or units like 10m, 30s, 500ms, 1h, 1m30s',
  });
}
