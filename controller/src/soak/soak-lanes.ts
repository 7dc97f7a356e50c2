import type { LaneRole, LaneRuntime } from '../runtime/index.js';
import { reportedMode } from '../harness/index.js';
import { soakErrors } from './errors.js';
import type { LaneDirs } from './checkpoint-parity.js';
import type { SoakRecord } from './soak-record.js';

export const SOAK_LANE_KEYS = ['replica', 'candidate'] as const;
export type SoakLaneKey = (typeof SOAK_LANE_KEYS)[number];

const ROLE: Record<SoakLaneKey, LaneRole> = { replica: 'shadow-replica', candidate: 'shadow-candidate' };

/** Pure: the soak's lane names (DNS-label safe, short) and directories. */
export function soakLaneNames(id: string): Record<SoakLaneKey, string> {
  const tail = id.replace(/[^a-z0-9]/g, '').slice(-12);
  return { replica: `soak-${tail}-replica`, candidate: `soak-${tail}-candidate` };
}

export function laneDirs(dir: string): LaneDirs {
  return { replica: `${dir}/lanes/replica`, candidate: `${dir}/lanes/candidate` };
}

/**
 * Starts one soak lane in sandbox on its directory: the replica runs the live lane's image, the
 * candidate the upgrade's. A worker that does not say `sandbox` on /version (older than the
 * sandbox) would run LIVE on its fork and could not replay: refused.
 */
export async function startSoakLane(
  runtime: LaneRuntime,
  record: SoakRecord,
  key: SoakLaneKey,
  options: { token?: string; readyTimeoutMs: number },
): Promise<string> {
  const name = record.lanes[key];
  const lane = await runtime.startLane(
    {
      name,
      image: key === 'replica' ? record.baseline_image : record.candidate_image,
      stateDir: laneDirs(record.dir)[key],
      mode: 'sandbox',
      role: ROLE[key],
      deploymentId: record.id,
      ...(options.token ? { env: { WVO_ADMIN_TOKEN: options.token } } : {}),
    },
    { readyTimeoutMs: options.readyTimeoutMs },
  );
  const url = lane.url;
  const mode = url ? await reportedMode(url) : undefined;
  if (!url || mode !== 'sandbox') {
    await runtime.removeLane(name, { timeoutMs: 5_000 }).catch(() => undefined);
    throw soakErrors.create('WVO_SOAK_REPLAY_REFUSED', `${key} lane ${name} (${lane.image}) cannot sandbox (/version says ${mode ?? 'no mode'})`, {
      subject: key === 'replica' ? 'baseline image' : 'candidate image',
      hint: 'Both versions must support WVO_SANDBOX and journal replay to soak.',
    });
  }
  return url;
}

/** A lane's journal head as the lane itself says (null when it does not answer). */
export async function laneHead(url: string, token: string | undefined): Promise<number | null> {
  try {
    const response = await fetch(`${url}/journal/head`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return null;
    return ((await response.json()) as { last_seq: number }).last_seq;
  } catch {
    return null;
  }
}
