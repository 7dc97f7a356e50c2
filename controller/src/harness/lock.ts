import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { systemClock, type Clock } from '../../../common/src/clock.js';
import { WvoError } from '../../../common/src/errors.js';
import { isPidAlive } from '../../../common/src/process-alive.js';
import { harnessErrors } from './errors.js';

/**
 * `state/upgrade.lock` (DESIGN §4 step 2): one upgrade at a time per state directory. The lock
 * is created exclusively; a lock whose owner is gone (pid dead on this host, or older than its
 * TTL) is reported as stale with how to clear it, never stolen silently.
 */

export const LOCK_FILE = 'upgrade.lock';
/** An upgrade that has run this long is presumed dead even on another host. */
export const DEFAULT_LOCK_TTL_MS = 6 * 60 * 60 * 1000;

export const LockInfo = z.object({
  pid: z.number().int().positive(),
  host: z.string().min(1),
  id: z.string().min(1),
  started_at: z.iso.datetime(),
});
export type LockInfo = z.infer<typeof LockInfo>;

export const LOCK_STATES = ['free', 'held', 'stale'] as const;
export type LockState = (typeof LOCK_STATES)[number];

export type LockStatus =
  | { readonly state: 'free'; readonly path: string }
  | { readonly state: 'held'; readonly path: string; readonly owner: LockInfo }
  | { readonly state: 'stale'; readonly path: string; readonly owner?: LockInfo; readonly reason: string };

export interface LockEnvironment {
  readonly clock?: Clock;
  readonly ttlMs?: number;
  readonly host?: string;
  /** Whether a pid is alive on this host; injected by tests. */
  readonly isAlive?: (pid: number) => boolean;
}

export interface AcquireLockOptions extends LockEnvironment {
  /** The run id recorded in the lock (the upgrade's id). */
  readonly id: string;
  readonly pid?: number;
}

export interface LockHandle {
  readonly path: string;
  readonly info: LockInfo;
  /** Remove the lock if it is still ours. Safe to call any number of times. */
  release(): void;
}

export function lockPath(stateRoot: string): string {
  return join(stateRoot, LOCK_FILE);
}

export { isPidAlive };

/** Pure: is a lock with this content held or stale, seen from `host` at `now`? */
export function classifyLock(
  owner: LockInfo,
  at: { now: number; host: string; ttlMs: number; isAlive: (pid: number) => boolean },
): { state: 'held' } | { state: 'stale'; reason: string } {
  const age = at.now - Date.parse(owner.started_at);
  if (owner.host === at.host && !at.isAlive(owner.pid)) {
    return { state: 'stale', reason: `owner pid ${owner.pid} is not running on ${owner.host}` };
  }
  if (age > at.ttlMs) {
    return { state: 'stale', reason: `lock is ${Math.round(age / 1000)} s old, older than its TTL (${Math.round(at.ttlMs / 1000)} s)` };
  }
  return { state: 'held' };
}

function readLockFile(path: string): { info?: LockInfo; missing: boolean } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    throw error;
  }
  try {
    const parsed = LockInfo.safeParse(JSON.parse(text));
    return { info: parsed.success ? parsed.data : undefined, missing: false };
  } catch {
    return { missing: false };
  }
}

/** Look at the lock without touching it. */
export function inspectLock(stateRoot: string, env: LockEnvironment = {}): LockStatus {
  const path = lockPath(stateRoot);
  const { info, missing } = readLockFile(path);
  if (missing) return { state: 'free', path };
  // The lock is written whole before it appears (link below), so unreadable content is damage.
  if (!info) return { state: 'stale', path, reason: 'lock file is unreadable' };
  const verdict = classifyLock(info, {
    now: (env.clock ?? systemClock).now(),
    host: env.host ?? hostname(),
    ttlMs: env.ttlMs ?? DEFAULT_LOCK_TTL_MS,
    isAlive: env.isAlive ?? isPidAlive,
  });
  return verdict.state === 'held' ? { state: 'held', path, owner: info } : { state: 'stale', path, owner: info, reason: verdict.reason };
}

function describeOwner(owner: LockInfo): string {
  return `run ${owner.id} (pid ${owner.pid} on ${owner.host}, since ${owner.started_at})`;
}

export function lockHeldError(status: Extract<LockStatus, { state: 'held' }>, hint?: string): WvoError {
  return harnessErrors.create('WVO_LOCK_HELD', `another upgrade holds the lock: ${describeOwner(status.owner)}`, {
    subject: status.path,
    hint: hint ?? 'Wait for that upgrade to finish (or stop it); its lock is removed when it ends.',
    details: { owner: status.owner },
  });
}

export function lockStaleError(status: Extract<LockStatus, { state: 'stale' }>): WvoError {
  const owner = status.owner ? ` left by ${describeOwner(status.owner)}` : '';
  return harnessErrors.create('WVO_LOCK_STALE', `stale upgrade lock${owner}: ${status.reason}`, {
    subject: status.path,
    hint: `Clear it with \`wvo unlock --state ${dirname(status.path)}\`, then retry.`,
    details: { reason: status.reason, ...(status.owner ? { owner: status.owner } : {}) },
  });
}

/** Delete the lock only if it still holds exactly `info` (never someone else's lock). */
function removeIfOwned(path: string, info: LockInfo): void {
  const { info: current } = readLockFile(path);
  if (current && current.id === info.id && current.pid === info.pid && current.host === info.host && current.started_at === info.started_at) {
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/**
 * Take the upgrade lock or throw WVO_LOCK_HELD / WVO_LOCK_STALE. The content is written to a
 * private temp file and hard-linked into place: link(2) fails with EEXIST exactly like
 * open(O_CREAT|O_EXCL) ("wx"), and readers never see a half-written lock.
 */
export function acquireLock(stateRoot: string, options: AcquireLockOptions): LockHandle {
  const clock = options.clock ?? systemClock;
  const path = lockPath(stateRoot);
  const info: LockInfo = {
    pid: options.pid ?? process.pid,
    host: options.host ?? hostname(),
    id: options.id,
    started_at: new Date(clock.now()).toISOString(),
  };
  mkdirSync(stateRoot, { recursive: true });
  const temp = `${path}.${info.pid}.${info.id.replace(/[^\w.-]/g, '_')}.tmp`;
  writeFileSync(temp, `${JSON.stringify(info)}\n`);
  try {
    linkSync(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const status = inspectLock(stateRoot, options);
    if (status.state === 'held') throw lockHeldError(status);
    if (status.state === 'stale') throw lockStaleError(status);
    // Released between our attempt and our look: try once more, no stealing involved.
    linkSync(temp, path);
  } finally {
    unlinkSync(temp);
  }
  let released = false;
  return {
    path,
    info,
    release() {
      if (released) return;
      released = true;
      removeIfOwned(path, info);
    },
  };
}

/** Remove a stale lock (or, with `force`, a live one). Returns what was found. */
export function clearLock(stateRoot: string, options: LockEnvironment & { force?: boolean } = {}): LockStatus {
  const status = inspectLock(stateRoot, options);
  if (status.state === 'free') return status;
  if (status.state === 'held' && !options.force) {
    throw lockHeldError(status, 'The owner is alive. If you are sure it is not running an upgrade, use `wvo unlock --force`.');
  }
  try {
    unlinkSync(status.path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return status;
}

export const RELEASE_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Release `handle` when the process is interrupted (Ctrl-C, SIGTERM) or exits. After releasing,
 * a signal nobody else listens for is re-raised so the process still dies of it (exit 130/143).
 * Returns a function that removes the handlers (call it in `finally` after `release()`).
 */
export function releaseOnSignals(handle: Pick<LockHandle, 'release'>): () => void {
  const onExit = () => handle.release();
  const handlers = RELEASE_SIGNALS.map((signal) => {
    const handler = () => {
      handle.release();
      dispose();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    return [signal, handler] as const;
  });
  const dispose = () => {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    process.removeListener('exit', onExit);
  };
  for (const [signal, handler] of handlers) process.on(signal, handler);
  process.on('exit', onExit);
  return dispose;
}
