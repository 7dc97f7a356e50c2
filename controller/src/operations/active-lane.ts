import type { WorkerManagerFile } from '../promotion/index.js';
import type { LanesResponse } from '../proxy/index.js';

/** Where `wvo status` learnt which lane serves: the proxy's routes, the runtime's live lanes, or the last switch's record. */
export const ACTIVE_SOURCES = ['proxy', 'runtime', 'worker_manager'] as const;
export type ActiveSource = (typeof ACTIVE_SOURCES)[number];

export interface ActiveLane {
  lane: string;
  image: string | null;
  version: string | null;
  last_switch: { from: string; to: string; at: string } | null;
  source: ActiveSource;
}

export interface ActiveLaneSources {
  /** The proxy's `GET /lanes` answer; undefined when no proxy is configured or it did not answer. */
  proxy?: Pick<LanesResponse, 'active' | 'last_switch'>;
  /** The runtime's lanes; undefined when the runtime could not be listed. */
  lanes?: ReadonlyArray<{ name: string; role: string; status: string; image: string }>;
  /** state/analytics/worker_manager.json (written on every switch). */
  manager?: WorkerManagerFile;
}

/**
 * Pure: the lane that serves now. The proxy's routes are the truth when it answers; without a
 * proxy, the runtime's one ready live lane (worker_manager.json picks among several, and stands
 * in when the runtime shows none). Before the first switch worker_manager.json does not exist,
 * so it alone cannot say which lane serves.
 */
export function resolveActiveLane(sources: ActiveLaneSources): ActiveLane | null {
  const { proxy, lanes, manager } = sources;
  const recorded = manager?.last_switch ? { from: manager.last_switch.from, to: manager.last_switch.to, at: manager.last_switch.at } : null;
  const describe = (lane: string, source: ActiveSource): ActiveLane => {
    const listed = lanes?.find((l) => l.name === lane);
    const managed = manager?.lanes.find((l) => l.name === lane);
    const fromProxy = proxy?.last_switch && proxy.last_switch.from !== null ? { from: proxy.last_switch.from, to: proxy.last_switch.to, at: proxy.last_switch.at } : null;
    return {
      lane,
      image: listed?.image ?? managed?.image ?? null,
      version: managed?.version ?? manager?.versions[lane] ?? null,
      last_switch: source === 'proxy' ? (fromProxy ?? recorded) : recorded,
      source,
    };
  };
  if (proxy) return proxy.active === null ? null : describe(proxy.active, 'proxy');
  const live = (lanes ?? []).filter((l) => l.role === 'live' && l.status === 'ready').map((l) => l.name);
  if (manager && (live.includes(manager.active_lane) || live.length === 0)) return describe(manager.active_lane, 'worker_manager');
  if (live.length === 1) return describe(live[0]!, 'runtime');
  return null;
}
