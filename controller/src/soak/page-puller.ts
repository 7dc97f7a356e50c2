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

/** A page and when it arrived. */
export type ReceivedPage = JournalPage & { readonly received_at: number };

/** The longest an idle soak loop holds a journal read open (the worker's long-poll), in ms. */
export const LONG_POLL_MS = 1_000;

/**
 * Pure: how long the next pull may be held by the live worker: LONG_POLL_MS, but never past the
 * soak's end (stop requests and checkpoint timers are looked at between pulls, so at most this late).
 */
export function longPollWait(endsAt: number | null, now: number): number {
  return Math.max(0, Math.min(LONG_POLL_MS, endsAt === null ? LONG_POLL_MS : endsAt - now));
}

/**
 * The soak's journal pulls, at most one in flight: the next page can be asked for while the
 * current one replays, and is used only if the cursor is still where it was asked from (a lane
 * restart moves it back to a checkpoint: the early page is dropped and pulled again). A pull may
 * be a long-poll (`waitMs`): the worker answers as soon as a commit brings an entry.
 */
export class PagePuller {
  private pending: { after: number; limit: number; page: Promise<ReceivedPage>; abort: AbortController } | undefined;

  /** `now` stamps each page's arrival (the soak's clock): lag before vs after the pull, for bench/soak.ts. */
  constructor(
    private readonly journal: JournalClient,
    private readonly now: () => number = Date.now,
  ) {}

  private ask(after: number, limit: number, waitMs: number, signal?: AbortSignal): Promise<ReceivedPage> {
    return this.journal.page(after, limit, waitMs, signal).then((page) => ({ ...page, received_at: this.now() }));
  }

  prefetch(after: number, limit: number, waitMs = 0): void {
    const abort = new AbortController();
    const page = this.ask(after, limit, waitMs, abort.signal);
    // Its failure (a gap, an unreachable lane) surfaces when it is taken, not as an unhandled rejection.
    page.catch(() => undefined);
    this.pending = { after, limit, page, abort };
  }

  /** `signal` (the soak's Ctrl-C) drops a held pull: the page then rejects. */
  take(after: number, limit: number, waitMs = 0, signal?: AbortSignal): Promise<ReceivedPage> {
    const pending = this.pending;
    this.pending = undefined;
    if (pending && pending.after === after && pending.limit === limit) {
      signal?.addEventListener('abort', () => pending.abort.abort(), { once: true });
      return pending.page;
    }
    return this.ask(after, limit, waitMs, signal);
  }

  /** The loop is ending: a request still in flight (perhaps held by the long-poll) is dropped. */
  async settle(): Promise<void> {
    this.pending?.abort.abort();
    await this.pending?.page.catch(() => undefined);
    this.pending = undefined;
  }
}
