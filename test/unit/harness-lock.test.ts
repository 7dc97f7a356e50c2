import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/src/clock.js';
import {
  DEFAULT_LOCK_TTL_MS,
  acquireLock,
  classifyLock,
  clearLock,
  inspectLock,
  lockPath,
  type LockInfo,
} from '../../controller/src/harness/lock.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist/controller/src/cli/main.js');

let state: string;
beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), 'wvo-test-harness-lock-'));
});
afterEach(() => {
  rmSync(state, { recursive: true, force: true });
});

/** The pid of a process that has exited: certainly not running. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

function writeLock(info: LockInfo): void {
  writeFileSync(lockPath(state), JSON.stringify(info));
}

describe('acquireLock', () => {
  it('creates state/upgrade.lock with pid, host, id and start time, and releases it idempotently', () => {
    const clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
    const handle = acquireLock(state, { id: 'run-1', clock });
    expect(JSON.parse(readFileSync(join(state, 'upgrade.lock'), 'utf8'))).toEqual({
      pid: process.pid,
      host: hostname(),
      id: 'run-1',
      started_at: '2026-03-01T10:00:00.000Z',
    });
    handle.release();
    handle.release();
    expect(existsSync(handle.path)).toBe(false);
    acquireLock(state, { id: 'run-2' }).release();
  });

  it('refuses a lock held by a live owner, naming it', () => {
    const first = acquireLock(state, { id: 'run-1' });
    try {
      expect(() => acquireLock(state, { id: 'run-2' })).toThrow(
        expect.objectContaining({
          code: 'WVO_LOCK_HELD',
          message: expect.stringContaining(`run run-1 (pid ${process.pid} on ${hostname()}`),
          subject: lockPath(state),
        }),
      );
      expect(JSON.parse(readFileSync(first.path, 'utf8')).id).toBe('run-1');
    } finally {
      first.release();
    }
  });

  it('reports a lock whose pid is dead on this host as stale, without taking it', () => {
    const info = { pid: deadPid(), host: hostname(), id: 'crashed', started_at: new Date().toISOString() };
    writeLock(info);
    expect(() => acquireLock(state, { id: 'run-2' })).toThrow(
      expect.objectContaining({
        code: 'WVO_LOCK_STALE',
        message: expect.stringContaining(`owner pid ${info.pid} is not running`),
        hint: expect.stringContaining(`wvo unlock --state ${state}`),
      }),
    );
    expect(JSON.parse(readFileSync(lockPath(state), 'utf8'))).toEqual(info);
  });

  it('reports a lock older than its TTL as stale, even from another host', () => {
    const clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
    acquireLock(state, { id: 'remote', clock, host: 'build-box-7', pid: 4242 });
    expect(() => acquireLock(state, { id: 'run-2', clock, ttlMs: 60_000 })).toThrow(expect.objectContaining({ code: 'WVO_LOCK_HELD' }));
    clock.advance(60_001);
    expect(() => acquireLock(state, { id: 'run-2', clock, ttlMs: 60_000 })).toThrow(
      expect.objectContaining({ code: 'WVO_LOCK_STALE', message: expect.stringContaining('older than its TTL') }),
    );
  });

  it('treats an unreadable lock as stale', () => {
    writeFileSync(lockPath(state), 'garbage');
    expect(inspectLock(state)).toMatchObject({ state: 'stale', reason: 'lock file is unreadable' });
    expect(() => acquireLock(state, { id: 'x' })).toThrow(expect.objectContaining({ code: 'WVO_LOCK_STALE' }));
  });

  it('is released in finally after a failure, and never removes a lock that is not its own', () => {
    expect(() => {
      const handle = acquireLock(state, { id: 'failing' });
      try {
        throw new Error('build failed');
      } finally {
        handle.release();
      }
    }).toThrow('build failed');
    expect(inspectLock(state).state).toBe('free');

    const mine = acquireLock(state, { id: 'mine' });
    clearLock(state, { force: true });
    const theirs = acquireLock(state, { id: 'theirs' });
    mine.release();
    expect(inspectLock(state)).toMatchObject({ state: 'held', owner: { id: 'theirs' } });
    theirs.release();
  });

  it('lets exactly one of many concurrent acquirers win', async () => {
    const script = `
      import { acquireLock } from ${JSON.stringify(join(ROOT, 'dist/controller/src/harness/lock.js'))};
      try { acquireLock(process.argv[1], { id: 'p' + process.pid }); process.stdout.write('won'); }
      catch (e) { process.stdout.write(e.code); }`;
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        new Promise<string>((done) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', script, state]);
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.on('exit', () => done(out));
        }),
      ),
    );
    // Winners exit without releasing, so later acquirers may see a dead owner: stale, never taken.
    expect(results.filter((r) => r === 'won')).toHaveLength(1);
    expect(results.every((r) => ['won', 'WVO_LOCK_HELD', 'WVO_LOCK_STALE'].includes(r))).toBe(true);
  });
});

describe('classifyLock', () => {
  const owner: LockInfo = { pid: 10, host: 'h', id: 'r', started_at: '2026-03-01T10:00:00.000Z' };
  const at = { now: Date.parse(owner.started_at) + 1000, host: 'h', ttlMs: DEFAULT_LOCK_TTL_MS, isAlive: () => true };
  it('is held while the owner lives within the TTL, stale otherwise', () => {
    expect(classifyLock(owner, at)).toEqual({ state: 'held' });
    expect(classifyLock(owner, { ...at, isAlive: () => false }).state).toBe('stale');
    expect(classifyLock(owner, { ...at, host: 'other', isAlive: () => false }).state).toBe('held');
    expect(classifyLock(owner, { ...at, now: at.now + DEFAULT_LOCK_TTL_MS }).state).toBe('stale');
  });
});

describe('releaseOnSignals', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('removes the lock when the process gets %s', async (signal) => {
    const script = `
      import { acquireLock, releaseOnSignals } from ${JSON.stringify(join(ROOT, 'dist/controller/src/harness/lock.js'))};
      releaseOnSignals(acquireLock(process.argv[1], { id: 'interrupted' }));
      process.stdout.write('locked');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, state]);
    try {
      await new Promise<void>((done) => child.stdout.once('data', () => done()));
      expect(inspectLock(state).state).toBe('held');
      const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, sig) => done(sig)));
      child.kill(signal);
      expect(await exited).toBe(signal);
      expect(existsSync(lockPath(state))).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('wvo unlock', () => {
  const unlock = (...args: string[]) => spawnSync(process.execPath, [CLI, 'unlock', '--state', state, ...args], { encoding: 'utf8' });

  it('says so when there is no lock', () => {
    const run = unlock('--json');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, removed: false, state: 'free' });
  });

  it('clears a stale lock, refuses a live one without --force', () => {
    writeLock({ pid: deadPid(), host: hostname(), id: 'crashed', started_at: new Date().toISOString() });
    const stale = unlock();
    expect(stale.status).toBe(0);
    expect(stale.stdout).toContain('removed');
    expect(stale.stdout).toContain('stale');
    expect(existsSync(lockPath(state))).toBe(false);

    const live = acquireLock(state, { id: 'live-run' });
    try {
      const refused = unlock('--json');
      expect(refused.status).toBe(1);
      expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'WVO_LOCK_HELD', hint: expect.stringContaining('--force') });
      expect(existsSync(live.path)).toBe(true);
      const forced = unlock('--force');
      expect(forced.status).toBe(0);
      expect(existsSync(live.path)).toBe(false);
    } finally {
      live.release();
    }
  });
});
