import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Executor, type ExecutionPlan } from '../../worker/src/executor/executor.js';
import { commandFingerprint } from '../../worker/src/executor/fingerprint.js';
import { notRecordedResult, RECORD_OUTPUT_CAP_CHARS, recordOf } from '../../worker/src/executor/run-journal.js';
import { resolveWorkerMode } from '../../worker/src/mode.js';
import { insertRun, latestRun, RUNS_KEPT_PER_FINGERPRINT, storeRunJournal } from '../../worker/src/store/executor-runs.js';
import { Store } from '../../worker/src/store/store.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  stores.splice(0).forEach((store) => store.close());
  dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wvo-worker-test-replay-'));
  dirs.push(dir);
  return dir;
}

function liveStore(): Store {
  const store = Store.open({ stateRoot: tempDir(), dryRun: false });
  stores.push(store);
  return store;
}

function executor(store: Store, options: { replay?: boolean; cwd?: string } = {}) {
  const spawned: string[][] = [];
  const cwd = options.cwd ?? tempDir();
  const instance = new Executor({
    dryRun: false,
    cwd,
    sandboxDir: cwd,
    replay: options.replay ?? false,
    journal: storeRunJournal(store, () => '2025-01-01T00:00:00.000Z'),
    onSpawn: (argv) => spawned.push([...argv]),
  });
  return { instance, spawned };
}

const echo = (...args: string[]) => ({ kind: 'exec' as const, program: 'echo', args });

describe('worker mode', () => {
  it('is live, dry_run or sandbox; both switches at once is a coded error naming both env vars', () => {
    expect(resolveWorkerMode({})).toBe('live');
    expect(resolveWorkerMode({ dryRun: true })).toBe('dry_run');
    expect(resolveWorkerMode({ sandbox: true })).toBe('sandbox');
    expect(() => resolveWorkerMode({ dryRun: true, sandbox: true })).toThrow(
      expect.objectContaining({ code: 'WVO_WORKER_MODE_CONFLICT', subject: 'WVO_DRY_RUN,WVO_SANDBOX', exitCode: 2 }),
    );
    expect(() => Store.open({ stateRoot: tempDir(), dryRun: true, sandbox: true })).toThrow(expect.objectContaining({ code: 'WVO_WORKER_MODE_CONFLICT' }));
  });
});

describe('command fingerprint', () => {
  const plan = (over: Partial<ExecutionPlan> = {}): ExecutionPlan => ({
    kind: 'exec',
    argv: ['echo', 'a'],
    timeout_ms: 1000,
    output_cap_bytes: 64,
    cwd: '/live/work',
    sandbox: false,
    ...over,
  });

  it('ignores the directory path (a sandbox copy lives elsewhere) but not what decides the run', () => {
    expect(commandFingerprint(plan({ cwd: '/elsewhere' }))).toBe(commandFingerprint(plan()));
    expect(commandFingerprint(plan())).toMatch(/^[0-9a-f]{64}$/);
    for (const changed of [{ argv: ['echo', 'b'] }, { argv: ['echo', 'a', ''] }, { sandbox: true }, { timeout_ms: 999 }, { output_cap_bytes: 65 }]) {
      expect(commandFingerprint(plan(changed))).not.toBe(commandFingerprint(plan()));
    }
  });

  it('records a capped copy of the output with the digest and size of all of it', () => {
    const long = 'x'.repeat(RECORD_OUTPUT_CAP_CHARS + 10);
    const record = recordOf(plan(), {
      status: 'succeeded', argv: ['echo', 'a'], exit_code: 0, stdout: long, stderr: 'é', truncated: false, duration_ms: 7, timeout_ms: 1000, source: 'spawned',
    });
    expect(record).toMatchObject({ truncated: true, output_bytes: long.length + 2, duration_ms: 7, cwd_kind: 'workdir' });
    expect(record.stdout).toHaveLength(RECORD_OUTPUT_CAP_CHARS);
    expect(record.output_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(recordOf(plan(), { ...notRecordedResult(plan()), stdout: long.slice(1), status: 'succeeded' }).output_sha256).not.toBe(record.output_sha256);
  });

  it('the not-recorded outcome is one constant per command: no time, no id', () => {
    expect(JSON.stringify(notRecordedResult(plan({ cwd: '/a' })))).toBe(JSON.stringify(notRecordedResult(plan({ cwd: '/b' }))));
    expect(notRecordedResult(plan())).toEqual({
      status: 'not_recorded', argv: ['echo', 'a'], exit_code: null, stdout: '', stderr: '', truncated: false, duration_ms: 0, timeout_ms: 1000, source: 'not_recorded',
    });
  });
});

describe('executor runs: recorded live, replayed in the sandbox', () => {
  it('a live run is recorded; a replaying executor answers from it and spawns nothing', async () => {
    const store = liveStore();
    const live = executor(store);
    const plan = live.instance.plan(echo('hello', 'world'), { sandbox: false });
    const ran = await live.instance.run(plan);
    expect(ran).toMatchObject({ status: 'succeeded', stdout: 'hello world', source: 'spawned' });
    expect(live.spawned).toEqual([['echo', 'hello', 'world']]);
    const row = store.db.prepare('SELECT fingerprint, argv, status, exit_code, duration_ms, stdout, recorded_at FROM executor_runs').all();
    expect(row).toEqual([
      { fingerprint: commandFingerprint(plan), argv: '["echo","hello","world"]', status: 'succeeded', exit_code: 0, duration_ms: ran.duration_ms, stdout: 'hello world', recorded_at: '2025-01-01T00:00:00.000Z' },
    ]);

    const sandbox = executor(store, { replay: true });
    const replayPlan = sandbox.instance.plan(echo('hello', 'world'), { sandbox: false });
    expect(replayPlan.cwd).not.toBe(plan.cwd);
    const replayed = await sandbox.instance.run(replayPlan);
    expect(replayed).toEqual({ ...ran, source: 'replayed' });
    expect(sandbox.spawned).toEqual([]);
    expect(await sandbox.instance.run(sandbox.instance.plan(echo('never'), { sandbox: false }))).toMatchObject({ status: 'not_recorded', source: 'not_recorded' });
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM executor_runs').get()).toEqual({ n: 1 });
  });

  it('replays failures and spawn errors as they happened', async () => {
    const store = liveStore();
    const missing = { program: 'wvo-no-such-program', args: [], minArgs: 0, maxArgs: 0, sandboxSafe: true, maxTimeoutMs: 5_000 };
    const allowList = new Map([['wvo-no-such-program', missing], ['false', { ...missing, program: 'false' }]]);
    const cwd = tempDir();
    const make = (replay: boolean) =>
      new Executor({ dryRun: false, cwd, sandboxDir: cwd, allowList, replay, journal: storeRunJournal(store, () => 'now') });
    const live = make(false);
    const sandbox = make(true);
    for (const program of ['false', 'wvo-no-such-program']) {
      const plan = live.plan({ kind: 'exec', program, args: [] }, { sandbox: false });
      const ran = await live.run(plan);
      expect(await sandbox.run(plan)).toEqual({ ...ran, source: 'replayed' });
    }
    expect((await sandbox.run(live.plan({ kind: 'exec', program: 'wvo-no-such-program', args: [] }, { sandbox: false }))).error?.code).toBe('WVO_EXEC_SPAWN_FAILED');
  });

  it('keeps the newest runs per fingerprint only, and replays the newest', () => {
    const store = liveStore();
    const base = recordOf(
      { kind: 'exec', argv: ['echo'], timeout_ms: 1, output_cap_bytes: 1, cwd: '/', sandbox: false },
      { status: 'succeeded', argv: ['echo'], exit_code: 0, stdout: '', stderr: '', truncated: false, duration_ms: 0, timeout_ms: 1, source: 'spawned' },
    );
    const other = { ...base, fingerprint: 'other' };
    for (let i = 0; i < RUNS_KEPT_PER_FINGERPRINT + 3; i += 1) store.tx(() => insertRun(store.db, { ...base, duration_ms: i }, 'at'));
    store.tx(() => insertRun(store.db, other, 'at'));
    const counts = store.db.prepare('SELECT fingerprint, COUNT(*) AS n, MIN(duration_ms) AS oldest FROM executor_runs GROUP BY fingerprint ORDER BY fingerprint').all();
    expect(counts).toEqual([
      { fingerprint: base.fingerprint, n: RUNS_KEPT_PER_FINGERPRINT, oldest: 3 },
      { fingerprint: 'other', n: 1, oldest: 0 },
    ]);
    expect(latestRun(store.db, base.fingerprint)?.duration_ms).toBe(RUNS_KEPT_PER_FINGERPRINT + 2);
    expect(latestRun(store.db, 'nope')).toBeUndefined();
  });

  it('a record that cannot be written does not change the run result', async () => {
    const errors: unknown[] = [];
    const cwd = tempDir();
    const instance = new Executor({
      dryRun: false,
      cwd,
      sandboxDir: cwd,
      journal: { record: () => { throw new Error('disk full'); }, latest: () => undefined },
      onRecordError: (error) => errors.push(error),
    });
    expect(await instance.run(instance.plan(echo('ok'), { sandbox: false }))).toMatchObject({ status: 'succeeded', stdout: 'ok' });
    expect(errors).toEqual([new Error('disk full')]);
  });
});
