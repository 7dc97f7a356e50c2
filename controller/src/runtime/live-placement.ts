import { RuntimeError } from './errors.js';

/**
 * Where a live lane runs when its deployment's live state is a volume on one host or node
 * (docker/live-state.ts): there, since blue and green must mount the same database (pure).
 * `requested` is the lane's `host` (or the default), `explicit` whether the caller named it,
 * `holders` the hosts/nodes that hold the live state volume now.
 */
export function placeLiveLane(input: { requested: string; explicit: boolean; holders: readonly string[]; volume: string }): string {
  const { requested, explicit, holders, volume } = input;
  if (holders.length === 0 || (holders.length === 1 && holders[0] === requested)) return requested;
  if (holders.length > 1) {
    throw new RuntimeError('WVO_STATE_LIVE_ELSEWHERE', `the live state volume ${volume} exists on ${holders.map((h) => `"${h}"`).join(' and ')}: a live lane cannot tell which is the live database`, {
      subject: volume,
      hint: `Compare them (wvo parity host:HOST:${volume}/orchestrator.db …), keep one and remove the others (docker volume rm ${volume} on that host).`,
      details: { volume, holders: [...holders] },
    });
  }
  const holder = holders[0]!;
  if (explicit) {
    throw new RuntimeError('WVO_STATE_LIVE_ELSEWHERE', `lane host "${requested}" does not hold the live state: volume ${volume} is on "${holder}", and blue and green must mount the same database`, {
      subject: 'host',
      hint: `Start the live lane on "${holder}" (or without --host), or move the live state there first.`,
      details: { volume, requested, holder },
    });
  }
  return holder;
}

/**
 * Where a deployment's live state must be snapshotted (pure): the one volume-mode host (or node)
 * its live lanes run on or its live state volume is on. Undefined when there is none: the live
 * state is then the local state root. Two → WVO_STATE_LIVE_ELSEWHERE (which one is live?).
 */
export function liveSnapshotHost(input: { liveLaneHosts: readonly string[]; holders: readonly string[]; volume: string }): string | undefined {
  const hosts = [...new Set([...input.liveLaneHosts, ...input.holders])].sort();
  if (hosts.length === 0) return undefined;
  return placeLiveLane({ requested: hosts[0]!, explicit: false, holders: hosts, volume: input.volume });
}
