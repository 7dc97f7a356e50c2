import type { FlagName } from './plan.js';

/**
 * Side effects the state machine asks for, as plain data. The executor performs them in order;
 * every one must be idempotent (starting a running lane, switching to the active lane, setting a
 * flag to its current value, stopping a stopped lane: all succeed and change nothing), because
 * after a crash they are issued again.
 */
export const EFFECT_KINDS = [
  'start_canary_lane',
  'start_lane',
  'switch_proxy',
  'set_weights',
  'flip_flag',
  'revert_flag',
  'stop_lane',
  'remove_lane',
  'write_plan',
  'write_worker_manager',
] as const;
export type EffectKind = (typeof EFFECT_KINDS)[number];

export type Effect =
  /** Start the candidate with DRY_RUN=0 on the live state and wait until it is ready. */
  | { readonly kind: 'start_canary_lane'; readonly lane: string; readonly image: string }
  /** Start a kept (stopped) lane again and wait until ready: rollback after promotion. */
  | { readonly kind: 'start_lane'; readonly lane: string; readonly image: string }
  /** Make `to` the proxy's active lane; `from` drains. */
  | { readonly kind: 'switch_proxy'; readonly to: string; readonly from: string }
  /** Send `weight` % of new sessions (and session-less calls) to `lane`; the active lane takes the rest. */
  | { readonly kind: 'set_weights'; readonly lane: string; readonly weight: number }
  | { readonly kind: 'flip_flag'; readonly lane: string; readonly flag: FlagName; readonly value: string }
  | { readonly kind: 'revert_flag'; readonly lane: string; readonly flag: FlagName; readonly value: string }
  /** Stop, do not remove: a stopped lane is what makes rollback cheap. */
  | { readonly kind: 'stop_lane'; readonly lane: string }
  | { readonly kind: 'remove_lane'; readonly lane: string }
  /** Rewrite promotion_plan.json from the store (plan, transitions, outcome). */
  | { readonly kind: 'write_plan' }
  /** Rewrite state/analytics/worker_manager.json (lanes, active lane, last switch). */
  | { readonly kind: 'write_worker_manager' };

export function describeEffect(effect: Effect): string {
  switch (effect.kind) {
    case 'start_canary_lane':
    case 'start_lane':
      return `${effect.kind} ${effect.lane} (${effect.image})`;
    case 'switch_proxy':
      return `switch_proxy ${effect.from} → ${effect.to}`;
    case 'set_weights':
      return `set_weights ${effect.lane}=${effect.weight}%`;
    case 'flip_flag':
    case 'revert_flag':
      return `${effect.kind} ${effect.flag}=${effect.value}`;
    case 'stop_lane':
    case 'remove_lane':
      return `${effect.kind} ${effect.lane}`;
    default:
      return effect.kind;
  }
}
