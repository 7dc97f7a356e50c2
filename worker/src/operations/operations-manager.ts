import type { Db } from '../store/database.js';
import { countByStatus, readyCount, tokensInFlight, type TaskStatus } from '../store/tasks.js';
import { readTokenBudget } from '../store/settings.js';
import { readShadowDiffs, type ShadowDiffs, type StatusWarning } from './shadow-summary.js';
import { tokenPressure, type TokenPressure } from './token-pressure.js';

export interface QueueStats {
  readonly total: number;
  readonly by_status: Record<TaskStatus, number>;
  /** Open tasks whose dependencies are all done. */
  readonly ready: number;
  /** Open tasks waiting on a dependency. */
  readonly blocked: number;
  readonly shadow_diffs: ShadowDiffs;
}

export interface CriticsSummary {
  readonly count: number;
  readonly average_reputation: number;
  readonly lowest: { readonly id: string; readonly name: string; readonly reputation: number } | null;
  readonly reviews: number;
  readonly agreement_rate: number;
}

export interface OperationsSnapshot {
  readonly queue: QueueStats;
  readonly token_pressure: TokenPressure;
  readonly critics: CriticsSummary;
  readonly warnings: readonly StatusWarning[];
}

const round = (value: number): number => Math.round(value * 10_000) / 10_000;

/** Reads the operational picture from the store and the state root; never writes. */
export class OperationsManager {
  constructor(
    private readonly db: () => Db,
    private readonly stateRoot: string,
  ) {}

  queueStats(): { queue: QueueStats; warnings: StatusWarning[] } {
    const db = this.db();
    const byStatus = countByStatus(db);
    const ready = readyCount(db);
    const total = Object.values(byStatus).reduce((sum, n) => sum + n, 0);
    const shadow = readShadowDiffs(this.stateRoot);
    return {
      queue: { total, by_status: byStatus, ready, blocked: byStatus.open - ready, shadow_diffs: shadow.diffs },
      warnings: shadow.warning ? [shadow.warning] : [],
    };
  }

  tokenPressure(): TokenPressure {
    const db = this.db();
    return tokenPressure(tokensInFlight(db), readTokenBudget(db));
  }

  critics(): CriticsSummary {
    const rows = this.db()
      .prepare('SELECT id, name, reputation, reviews, agreements FROM critics ORDER BY reputation ASC, id')
      .all() as Array<{ id: string; name: string; reputation: number; reviews: number; agreements: number }>;
    const reviews = rows.reduce((sum, row) => sum + row.reviews, 0);
    const agreements = rows.reduce((sum, row) => sum + row.agreements, 0);
    const lowest = rows[0];
    return {
      count: rows.length,
      average_reputation: rows.length ? round(rows.reduce((sum, row) => sum + row.reputation, 0) / rows.length) : 0,
      lowest: lowest ? { id: lowest.id, name: lowest.name, reputation: lowest.reputation } : null,
      reviews,
      agreement_rate: reviews ? round(agreements / reviews) : 0,
    };
  }

  snapshot(): OperationsSnapshot {
    const { queue, warnings } = this.queueStats();
    return { queue, token_pressure: this.tokenPressure(), critics: this.critics(), warnings };
  }
}
