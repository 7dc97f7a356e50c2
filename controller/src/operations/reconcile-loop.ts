import { hostname } from 'node:os';
import type { Clock } from '../../../common/src/clock.js';
import { IntervalLoop } from '../../../common/src/interval-loop.js';
import { isWvoError } from '../../../common/src/errors.js';
import type { Logger } from '../../../common/src/logger.js';
import { isPidAlive } from '../../../common/src/process-alive.js';
import { judgeLease, type DeploymentRecord, type DeploymentStore } from '../promotion/index.js';

/** After a failed resume, wait this long before trying again (a stuck rollback is not hammered). */
const RETRY_AFTER_FAILURE_MS = 30_000;

export interface ReconcileLoopOptions {
  store: DeploymentStore;
  /** `wvo resume <id>`. */
  resume: (id: string) => Promise<DeploymentRecord | undefined>;
  /** Stop/remove old lanes whose keep-warm or retention window ended unattended. */
  housekeeping?: () => Promise<void>;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  isAlive?: (pid: number) => boolean;
  /** A resume ended in an error (logged and published by the caller). */
  onError?: (id: string, error: unknown) => void;
}

/**
 * `wvo serve` as a controller that reconciles by itself. Every `intervalMs`:
 * - the running deployment, when no live driver holds its lease (the promote that drove it was
 *   killed, or this controller restarted), is resumed exactly as `wvo resume` would; one this
 *   process drives, or a live controller elsewhere drives, is left alone (`judgeLease`);
 * - otherwise, housekeeping: keep-warm windows and retention periods that ended while nobody
 *   waited on them stop or remove their old lanes (else only the next promote would).
 * One piece of work at a time.
 */
export class ReconcileLoop extends IntervalLoop {
  private readonly probe = { owner: `reconcile-loop:${hostname()}:${process.pid}`, pid: process.pid, host: hostname() };

  constructor(private readonly o: ReconcileLoopOptions) {
    super(o.intervalMs);
  }

  protected tick(): void {
    if (this.running || this.o.clock.now() < this.retryAt) return;
    let orphaned: { record: DeploymentRecord; reason: string } | undefined;
    try {
      const record = this.o.store.running();
      if (record) {
        const judgement = judgeLease(this.o.store.lease(record.id), this.probe, this.o.clock.now(), this.o.isAlive ?? isPidAlive);
        if (judgement.take) orphaned = { record, reason: judgement.reason };
      }
    } catch (error) {
      this.o.logger.warn({ err: error }, 'reconcile: could not read controller.db');
      return;
    }
    const work = orphaned ? this.resume(orphaned.record, orphaned.reason) : this.o.housekeeping?.();
    if (work) this.running = work.finally(() => (this.running = undefined));
  }

  private resume(record: DeploymentRecord, reason: string): Promise<void> {
    const { id, state } = record;
    this.o.logger.warn({ deployment: id, state, reason }, `reconcile: ${id} is ${state} with no live driver (${reason}); resuming it`);
    return this.o.resume(id).then(
      (after) => this.o.logger.info({ deployment: id, state: after?.state }, `reconcile: ${id} is ${after?.state ?? 'done'}`),
      (error: unknown) => {
        // Another controller took it first: it drives it now.
        if (isWvoError(error) && error.code === 'WVO_DEPLOYMENT_OWNED') return;
        this.retryAt = this.o.clock.now() + RETRY_AFTER_FAILURE_MS;
        this.o.logger.error({ err: error, deployment: id }, 'reconcile: resume failed; trying again in 30 s');
        this.o.onError?.(id, error);
      },
    );
  }
}
