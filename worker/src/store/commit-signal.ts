/**
 * Wakes readers waiting for the next commit (the journal's long-poll, `GET /journal?wait=`): the
 * store calls `committed()` after each outermost write transaction. No timers unless someone
 * waits; a wait ends at the next commit, at its deadline, or when the signal closes.
 */
export class CommitSignal {
  private waiters = new Set<() => void>();
  private closed = false;

  /** Resolves `true` at the next commit, `false` when `ms` pass first or the signal is closed. */
  next(ms: number): Promise<boolean> {
    if (this.closed || ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), ms);
      const wake = () => done(true);
      const done = (committed: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(committed && !this.closed);
      };
      this.waiters.add(wake);
    });
  }

  committed(): void {
    if (this.waiters.size === 0) return;
    const woken = [...this.waiters];
    this.waiters.clear();
    for (const wake of woken) wake();
  }

  /** Shutdown: every wait ends now, later ones at once. */
  close(): void {
    this.closed = true;
    this.committed();
  }

  get waiting(): number {
    return this.waiters.size;
  }
}
