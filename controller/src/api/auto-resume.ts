import { hostname } from 'node:os';
import type { Clock } from '../../../common/src/clock.js';
import { isWvoError } from '../../../common/src/errors.js';
import type { Logger } from '../../../common/src/logger.js';
import { isPidAlive } from '../../../common/src/process-alive.js';
import { judgeLease, type DeploymentRecord, type DeploymentStore } from '../promotion/index.js';

/** After a failed resume, wait this long before trying again (a stuck rollback is not hammered). */
const RETRY_AFTER_FAILURE_MS = 30_000;

export interface AutoResumeOptions {
  store: DeploymentStore;
  resume: (id: string) => Promise<DeploymentRecord | undefined>;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  isAlive?: (pid: number) => boolean;
  /** A resume ended in an error (logged and published by the caller). */
  onError?: (id: string, error: unknown) => void;
}

/**
 * `wvo serve` as a controller that reconciles by itself: every `intervalMs` it looks at the
 * running deployment and, when no live driver holds its lease (the promote that drove it was
 * killed, or this controller restarted), resumes it, exactly as `wvo resume` would. A deployment
 * this process drives, or one a live controller elsewhere drives, is left alone (`judgeLease`).
 */
export class AutoResume {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private retryAt = 0;
  private readonly probe = { owner: `auto-resume:${hostname()}:${process.pid}`, pid: process.pid, host: hostname() };

  constructor(private readonly o: AutoResumeOptions) {}

  start(): void {
    if (this.timer || this.o.intervalMs <= 0) return;
    this.timer = setInterval(() => this.tick(), this.o.intervalMs);
    this.timer.unref();
    this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The resume in flight, if any (so a caller can wait for it). */
  idle(): Promise<unknown> {
    return this.running ?? Promise.resolve();
  }

  private tick(): void {
    if (this.running || this.o.clock.now() < this.retryAt) return;
    let target: DeploymentRecord | undefined;
    let reason: string;
    try {
      target = this.o.store.running();
      if (!target) return;
      const judgement = judgeLease(this.o.store.lease(target.id), this.probe, this.o.clock.now(), this.o.isAlive ?? isPidAlive);
      if (!judgement.take) return;
      reason = judgement.reason;
    } catch (error) {
      this.o.logger.warn({ err: error }, 'auto-resume: could not read controller.db');
      return;
    }
    const id = target.id;
    this.o.logger.warn({ deployment: id, state: target.state, reason }, `auto-resume: ${id} is ${target.state} with no live driver (${reason}); resuming it`);
    this.running = this.o
      .resume(id)
      .then(
        (record) => this.o.logger.info({ deployment: id, state: record?.state }, `auto-resume: ${id} is ${record?.state ?? 'done'}`),
        (error: unknown) => {
          // Another controller took it first: it drives it now.
          if (isWvoError(error) && error.code === 'WVO_DEPLOYMENT_OWNED') return;
          this.retryAt = this.o.clock.now() + RETRY_AFTER_FAILURE_MS;
          this.o.logger.error({ err: error, deployment: id }, 'auto-resume failed; trying again in 30 s');
          this.o.onError?.(id, error);
        },
      )
      .finally(() => (this.running = undefined));
  }
}
