import type { JournalClient, JournalPage } from './journal-client.js';

/** How long an idle soak loop goes without saving its record (the heartbeat is stale after 60 s). */
export const IDLE_SAVE_MS = 5_000;

/**
 * Pure: the next wait of an idle loop: from an eighth of `pollMs` (at least 10 ms), doubled by
 * every empty page, up to `pollMs`. `previous` 0 means the last page had entries.
 */
export function nextIdleWait(previous: number, pollMs: number): number {
  if (previous <= 0) return Math.min(pollMs, Math.max(10, Math.round(pollMs / 8)));
  return Math.min(pollMs, previous * 2);
}

/**
 * The soak's journal pulls, at most one in flight: the next page can be asked for while the
 * current one replays, and is used only if the cursor is still where it was asked from (a lane
 * restart moves it back to a checkpoint: the early page is dropped and pulled again).
 */
export class PagePuller {
  private pending: { after: number; limit: number; page: Promise<JournalPage> } | undefined;

  constructor(private readonly journal: JournalClient) {}

  prefetch(after: number, limit: number): void {
    const page = this.journal.page(after, limit);
    // Its failure (a gap, an unreachable lane) surfaces when it is taken, not as an unhandled rejection.
    page.catch(() => undefined);
    this.pending = { after, limit, page };
  }

  take(after: number, limit: number): Promise<JournalPage> {
    const pending = this.pending;
    this.pending = undefined;
    if (pending && pending.after === after && pending.limit === limit) return pending.page;
    return this.journal.page(after, limit);
  }

  /** Wait out a request still in flight (the loop is ending). */
  async settle(): Promise<void> {
    await this.pending?.page.catch(() => undefined);
    this.pending = undefined;
  }
}
