import type { Clock } from '../../../common/src/clock.js';
import { IntervalLoop } from '../../../common/src/interval-loop.js';
import { isWvoError } from '../../../common/src/errors.js';
import type { Logger } from '../../../common/src/logger.js';
import type { FleetRecord } from './fleet-record.js';

/** After a failed resume, wait this long before trying again (as the deployment reconcile loop does). */
const RETRY_AFTER_FAILURE_MS = 30_000;

export interface FleetReconcileOptions {
  /** The running fleet promotion, if any (the fleet store's `running()`; the fleet may be opened lazily here). */
  running: () => FleetRecord | undefined;
  /** `wvo resume --fleet`: takes the lease (WVO_FLEET_OWNED while a live driver holds it) and drives the fleet to its end. */
  resume: (id: string) => Promise<FleetRecord | undefined>;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
}

/**
 * `wvo serve` resumes a fleet promotion whose controller died, as it resumes a deployment
 * (operations' ReconcileLoop): every `intervalMs`, the running fleet is handed to `resume`; the
 * fleet store's lease decides (a live driver, this process's own included, keeps it:
 * WVO_FLEET_OWNED is the quiet "nothing to do"). One resume at a time.
 */
export class FleetReconcileLoop extends IntervalLoop {
  constructor(private readonly o: FleetReconcileOptions) {
    super(o.intervalMs);
  }

  protected tick(): void {
    if (this.running || this.o.clock.now() < this.retryAt) return;
    let record: FleetRecord | undefined;
    try {
      record = this.o.running();
    } catch (error) {
      // A fleet config that does not resolve, an unreadable controller.db: said now, asked again later.
      this.retryAt = this.o.clock.now() + RETRY_AFTER_FAILURE_MS;
      this.o.logger.warn({ err: error }, 'fleet reconcile: could not read the fleet record; trying again in 30 s');
      return;
    }
    if (!record) return;
    const id = record.id;
    this.running = this.o
      .resume(id)
      .then(
        (after) => this.o.logger.info({ fleet: id, state: after?.state }, `fleet reconcile: ${id} is ${after?.state ?? 'done'}`),
        (error: unknown) => {
          // Its driver lives (here or in another controller): it goes on driving.
          if (isWvoError(error) && error.code === 'WVO_FLEET_OWNED') return;
          this.retryAt = this.o.clock.now() + RETRY_AFTER_FAILURE_MS;
          this.o.logger.error({ err: error, fleet: id }, 'fleet reconcile: resume failed; trying again in 30 s');
        },
      )
      .finally(() => (this.running = undefined));
  }
}
