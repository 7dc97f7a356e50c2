import { WvoError } from '../../../common/src/errors.js';
import { promotionErrors } from './errors.js';

/**
 * Who drives a deployment. A driver (`wvo promote`, `wvo serve`, `wvo resume`, `wvo rollback`)
 * holds a lease on it in controller.db and renews it while it works, so `wvo resume` can tell a
 * dead controller from a busy one instead of driving the same deployment twice.
 */
export interface LeaseHolder {
  /** Unique per driver (host, pid and a random part: two drivers in one process differ). */
  readonly owner: string;
  readonly pid: number;
  readonly host: string;
}

export interface Lease extends LeaseHolder {
  readonly deploymentId: string;
  readonly acquiredAt: number;
  readonly renewedAt: number;
  readonly expiresAt: number;
}

/** Renewed every third of it; a driver that stops renewing is presumed dead after this. */
export const LEASE_TTL_MS = 15_000;

export type LeaseJudgement = { take: true; reason: string } | { take: false; reason: string };

/**
 * Pure: may `me` take the lease, seen at `now`? Free, mine, expired, or held by a process that
 * is gone from this host → yes. Held by a live driver → no. A driver on another host (the
 * controller container, another machine) is judged by expiry alone.
 */
export function judgeLease(
  existing: Lease | undefined,
  me: LeaseHolder,
  now: number,
  isAlive: (pid: number) => boolean,
): LeaseJudgement {
  if (!existing) return { take: true, reason: 'no driver' };
  if (existing.owner === me.owner) return { take: true, reason: 'already mine' };
  if (existing.expiresAt <= now) {
    return { take: true, reason: `lease of pid ${existing.pid} on ${existing.host} expired ${Math.round((now - existing.expiresAt) / 1000)} s ago` };
  }
  if (existing.host === me.host && !isAlive(existing.pid)) {
    return { take: true, reason: `pid ${existing.pid} on ${existing.host} is gone` };
  }
  return { take: false, reason: `driven by pid ${existing.pid} on ${existing.host}, lease renewed ${Math.round((now - existing.renewedAt) / 1000)} s ago` };
}

export function leaseOwnedError(existing: Lease, judgement: LeaseJudgement, now: number): WvoError {
  return promotionErrors.create('WVO_DEPLOYMENT_OWNED', `deployment ${existing.deploymentId} is ${judgement.reason}`, {
    subject: existing.deploymentId,
    hint: `its controller is alive: wait for it, or \`wvo rollback ${existing.deploymentId}\`; if it is hung, stop that process (unrenewed, its lease runs out in ${Math.max(0, Math.ceil((existing.expiresAt - now) / 1000))} s)`,
    details: { owner: existing.owner, pid: existing.pid, host: existing.host, renewed_at: new Date(existing.renewedAt).toISOString(), expires_at: new Date(existing.expiresAt).toISOString() },
  });
}
