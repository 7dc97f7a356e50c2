import { silentLogger, type Logger } from '../../../common/src/logger.js';
import type { DeploymentStore } from '../promotion/index.js';
import type { EventBus } from './event-bus.js';

/**
 * Publishes deployment transitions on the event bus by polling controller.db. Polling (not a
 * hook in the reconciler) also catches transitions made by `wvo promote` in another process or
 * by a second controller: the database is the one record of what happened.
 */
export class DeploymentWatcher {
  /** deployment id → last transition seq already published. */
  private readonly seen = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly logger: Logger;

  constructor(
    private readonly store: DeploymentStore,
    private readonly bus: EventBus,
    private readonly intervalMs: number,
    logger?: Logger,
  ) {
    this.logger = logger ?? silentLogger();
  }

  /** Remember what exists now (history is not replayed), then poll. */
  start(): void {
    for (const d of this.store.list()) this.seen.set(d.id, this.store.transitions(d.id).at(-1)?.seq ?? 0);
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.timer.unref();
  }

  /** One pass: publish every transition committed since the last pass. */
  poll(): void {
    try {
      for (const d of this.store.list()) {
        const last = this.seen.get(d.id) ?? 0;
        const fresh = this.store.transitions(d.id).filter((t) => t.seq > last);
        if (fresh.length === 0 && this.seen.has(d.id)) continue;
        this.seen.set(d.id, fresh.at(-1)?.seq ?? last);
        this.bus.publish({
          type: 'deployment',
          id: d.id,
          upgrade_id: d.upgradeId,
          state: d.state,
          version: d.version,
          transitions: fresh.map((t) => ({ from: t.from, to: t.to, event: t.event, reason: t.reason, at: new Date(t.at).toISOString() })),
        });
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'deployment watcher: cannot read controller.db');
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
