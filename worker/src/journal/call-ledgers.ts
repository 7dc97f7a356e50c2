import type { Clock } from '../../../common/src/clock.js';
import type { WorkerMode } from '../mode.js';
import { CallLedger } from './call-ledger.js';
import type { LogicalClock } from './logical-clock.js';
import type { ReplayMeta } from './replay-meta.js';

/** Default WVO_JOURNAL_RETAIN: the newest entries kept (0 = all). */
export const DEFAULT_JOURNAL_RETAIN = 100_000;

export interface JournalSettings {
  /** Live workers journal their write calls; off only for the benchmark's baseline. */
  readonly enabled: boolean;
  readonly retain: number;
}

/** Makes each call's ledger: which mode, which clock (the logical one in a sandbox). */
export class CallLedgers {
  constructor(
    private readonly options: { mode: WorkerMode; journal: JournalSettings; clock: Clock; logical?: LogicalClock },
  ) {}

  /** Call inside the call scope: a sandbox's logical clock advances in call order. */
  begin(tool: { name: string; writes?: boolean }, args: unknown, replay?: ReplayMeta): CallLedger {
    const clock = this.options.clock;
    const read = this.options.logical ? this.options.logical.beginCall() : () => clock.now();
    const base = { tool: tool.name, args, read };
    if (replay) return new CallLedger({ ...base, mode: 'replay', replay });
    if (this.options.mode === 'live' && this.options.journal.enabled && tool.writes) {
      return new CallLedger({ ...base, mode: 'record', retain: this.options.journal.retain });
    }
    return new CallLedger({ ...base, mode: 'off' });
  }
}
