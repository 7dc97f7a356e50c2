/**
 * A background loop of `wvo serve` (deployment and fleet reconcile): `tick` every `intervalMs`
 * (unref'd, so it never keeps the process up), once at start, and at most one piece of work in
 * flight (`running`); after a failure, `retryAt` holds the next attempt back.
 */
export abstract class IntervalLoop {
  private timer: NodeJS.Timeout | undefined;
  protected running: Promise<unknown> | undefined;
  protected retryAt = 0;

  constructor(private readonly intervalMs: number) {}

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
    this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The work in flight, if any (so a caller can wait for it). */
  idle(): Promise<unknown> {
    return this.running ?? Promise.resolve();
  }

  protected abstract tick(): void;
}
