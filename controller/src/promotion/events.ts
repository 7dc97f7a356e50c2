import type { EffectKind } from './effects.js';
import type { IntervalRecord } from './interval-record.js';

/** What can happen to a deployment: operator requests, effect outcomes, clock and gate results. */
export const EVENT_TYPES = [
  'start',
  'canary_ready',
  'switched',
  'gate_passed',
  'gate_failed',
  'observe_window_elapsed',
  'rollback_requested',
  'effect_failed',
  'rollback_complete',
  'retention_elapsed',
  'warm_elapsed',
  'resume',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type PromotionEvent =
  | { readonly type: 'start' }
  | { readonly type: 'canary_ready' }
  | { readonly type: 'switched' }
  /** `analysis`: the interval's comparison, appended to the record (a `fail` verdict comes as gate_failed). */
  | { readonly type: 'gate_passed'; readonly reasons?: readonly string[]; readonly analysis?: IntervalRecord }
  | { readonly type: 'gate_failed'; readonly reasons: readonly string[]; readonly analysis?: IntervalRecord }
  | { readonly type: 'observe_window_elapsed' }
  | { readonly type: 'rollback_requested'; readonly reason: string }
  | { readonly type: 'effect_failed'; readonly effect: EffectKind; readonly message: string }
  | { readonly type: 'rollback_complete' }
  | { readonly type: 'retention_elapsed' }
  /** The keep-warm window after promotion ended: stop the old lane. */
  | { readonly type: 'warm_elapsed' }
  /** After a controller crash (`wvo resume`), or to retry a rollback whose effect failed. */
  | { readonly type: 'resume'; readonly reason?: string };
