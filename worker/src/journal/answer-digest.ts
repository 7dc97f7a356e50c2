import { createHash } from 'node:crypto';

/**
 * Pure: the answer without what only says which lane gave it: the top-level mode markers
 * (`dry_run`, `sandbox`, added by tool-result.ts) and the `source` of every executor result (an
 * object with `argv`, `status` and `source`: `spawned` live, `replayed` in a sandbox). Everything
 * else — ids, times, outputs, error codes — is the answer a replay must reproduce.
 */
export function laneNeutral(body: Record<string, unknown>): Record<string, unknown> {
  const { dry_run: _dryRun, sandbox: _sandbox, ...rest } = body;
  return strip(rest) as Record<string, unknown>;
}

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  const executorResult = 'argv' in object && 'status' in object && 'source' in object;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(object)) {
    if (executorResult && key === 'source') continue;
    out[key] = strip(child);
  }
  return out;
}

/** sha256 (hex) of the lane-neutral answer's JSON: equal digests = byte-identical answers but for lane markers. */
export function answerDigest(body: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(laneNeutral(body))).digest('hex');
}
