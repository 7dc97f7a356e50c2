import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../../../common/src/clock.js';
import type { Logger } from '../../../common/src/logger.js';
import { isPidAlive } from '../../../common/src/process-alive.js';
import { LEASE_TTL_MS, type DeploymentStore, type LeaseHolder } from '../promotion/index.js';

export function ttlOf(o: { ttlMs?: number }): number {
  return o.ttlMs ?? LEASE_TTL_MS;
}

/** A fresh driver identity in this process (two drivers in one process are two owners). */
export function newLeaseHolder(): LeaseHolder {
  const host = hostname();
  return { owner: `${host}:${process.pid}:${randomBytes(4).toString('hex')}`, pid: process.pid, host };
}

export interface DriverLeaseOptions {
  store: DeploymentStore;
  clock: Clock;
  log: Logger;
  ttlMs?: number;
  isAlive?: (pid: number) => boolean;
}

/**
 * The lease a driver holds while it works on a deployment: taken (or refused with
 * WVO_DEPLOYMENT_OWNED), renewed every third of its TTL on a timer that never keeps the process
 * alive, released when the work ends. Losing it (a rollback took over) is logged; the driver's
 * own version check then makes it step aside.
 */
export class DriverLease {
  private timer: NodeJS.Timeout | undefined;
  private lost = false;

  private constructor(
    private readonly o: DriverLeaseOptions,
    readonly deploymentId: string,
    readonly holder: LeaseHolder,
  ) {}

  static acquire(o: DriverLeaseOptions, deploymentId: string, holder: LeaseHolder, force = false): DriverLease {
    const taken = o.store.acquireLease(deploymentId, holder, { now: o.clock.now(), ttlMs: ttlOf(o), isAlive: o.isAlive ?? isPidAlive, force });
    if (taken.previous) {
      o.log.warn({ deployment: deploymentId, previous: { pid: taken.previous.pid, host: taken.previous.host } }, `took over the lease: ${taken.reason}`);
    }
    return DriverLease.adopt(o, deploymentId, holder);
  }

  /** A lease already written for `holder` (with the deployment itself): keep it renewed. */
  static adopt(o: DriverLeaseOptions, deploymentId: string, holder: LeaseHolder): DriverLease {
    const lease = new DriverLease(o, deploymentId, holder);
    const ttlMs = ttlOf(o);
    lease.timer = setInterval(() => lease.renew(ttlMs), Math.max(50, Math.floor(ttlMs / 3)));
    lease.timer.unref();
    return lease;
  }

  private renew(ttlMs: number): void {
    if (this.lost) return;
    try {
      if (this.o.store.renewLease(this.deploymentId, this.holder.owner, { now: this.o.clock.now(), ttlMs })) return;
      this.lost = true;
      this.o.log.warn({ deployment: this.deploymentId }, 'lease taken over by another controller; it drives this deployment now');
    } catch (error) {
      // A busy or closed controller.db: the next tick retries; expiry is the backstop.
      this.o.log.warn({ err: error, deployment: this.deploymentId }, 'could not renew the lease');
    }
  }

  release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.lost) return;
    try {
      this.o.store.releaseLease(this.deploymentId, this.holder.owner);
    } catch (error) {
      this.o.log.warn({ err: error, deployment: this.deploymentId }, 'could not release the lease (it expires by itself)');
    }
  }
}
