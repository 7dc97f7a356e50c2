import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ALLOW_LIST, dbPathFor, seedState, startWorker, type AllowedProgram, type WorkerHandle } from '../../worker/src/index.js';
import { connect, hashFiles, tempStateRoot } from './worker-helpers.js';

/** `touch` proves a spawn: a replayed check leaves no file behind. */
const TOUCH: AllowedProgram = { program: 'touch', args: [/^[\w.-]+$/], minArgs: 1, maxArgs: 1, sandboxSafe: true, maxTimeoutMs: 5_000 };
const ALLOW_LIST = new Map([...DEFAULT_ALLOW_LIST, ['touch', TOUCH]]);

const exec = (program: string, ...args: string[]) => ({ kind: 'exec', program, args });

async function spawns(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(text.split('\n').find((l) => l.startsWith('wvo_worker_executor_spawns_total '))?.split(' ')[1]);
}

/** One tool call's answer, as the raw JSON text the worker sent. */
async function raw(client: Client, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const result = await client.callTool({ name, arguments: args });
  return (result.content as Array<{ text: string }>)[0]!.text;
}

describe('worker sandbox mode (WVO_SANDBOX): private copy, committed calls, replayed executor', () => {
  const cleanups: Array<() => void> = [];
  const workers: WorkerHandle[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.close()));
    cleanups.splice(0).forEach((cleanup) => cleanup());
  });

  function dir(): string {
    const made = tempStateRoot();
    cleanups.push(made.cleanup);
    return made.dir;
  }

  async function worker(stateRoot: string, workdir: string, mode: { sandbox?: boolean; dryRun?: boolean } = {}): Promise<WorkerHandle> {
    const handle = await startWorker({ stateRoot, port: 0, workdir, allowList: ALLOW_LIST, ...mode });
    workers.push(handle);
    return handle;
  }

  async function stop(handle: WorkerHandle): Promise<void> {
    workers.splice(workers.indexOf(handle), 1);
    await handle.close();
  }

  /**
   * Live state with two tasks on top of a seeded queue: T-TOUCH (its command and a check create
   * files) and T-NEXT (blocked on T-TOUCH). A live worker dispatches and verifies T-TOUCH, so its
   * runs are recorded; T-TOUCH stays in progress for the sandbox to verify again.
   */
  async function liveState(): Promise<{ stateRoot: string; liveWork: string; seededRuns: number }> {
    const stateRoot = dir();
    const liveWork = dir();
    // The seed records its own tasks' commands; the rows after those are the live worker's.
    const seededRuns = seedState({ stateRoot, tasks: 40, seed: 7 }).executor_runs;
    const db = new Database(dbPathFor(stateRoot));
    const insert = db.prepare(
      "INSERT INTO tasks (id, title, priority, dependencies, command_spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?, '2025-01-01', '2025-01-01')",
    );
    insert.run('T-TOUCH', 'makes files', 10_000, '[]', JSON.stringify({
      command: exec('touch', 'dispatched.marker'),
      checks: [{ name: 'make-file', command: exec('touch', 'checked.marker') }, { name: 'smoke', command: exec('true') }, { name: 'unit', command: exec('echo', 'unit', 'ok') }],
    }));
    insert.run('T-NEXT', 'after the toucher', 9_999, '["T-TOUCH"]', JSON.stringify({ command: exec('echo', 'next'), checks: [{ name: 'smoke', command: exec('true') }] }));
    db.close();

    const live = await worker(stateRoot, liveWork);
    const client = await connect(live.url);
    try {
      const dispatched = JSON.parse(await raw(client, 'dispatch', { task_id: 'T-TOUCH', agent: 'live' }));
      expect(dispatched).toMatchObject({ dry_run: false, execution: { status: 'succeeded', source: 'spawned' } });
      expect(dispatched).not.toHaveProperty('sandbox');
      const verified = JSON.parse(await raw(client, 'verify', { task_id: 'T-TOUCH' }));
      expect(verified).toMatchObject({ verdict: 'passed', critics: { approved: true } });
      expect(verified.checks.map((check: { source: string }) => check.source)).toEqual(['spawned', 'spawned', 'spawned']);
    } finally {
      await client.close();
    }
    await stop(live);
    expect(readdirSync(liveWork).sort()).toEqual(['checked.marker', 'dispatched.marker']);
    const runs = new Database(dbPathFor(stateRoot), { readonly: true });
    expect(runs.prepare('SELECT argv, status FROM executor_runs WHERE id > ? ORDER BY id').all(seededRuns)).toEqual([
      { argv: '["touch","dispatched.marker"]', status: 'succeeded' },
      { argv: '["touch","checked.marker"]', status: 'succeeded' },
      { argv: '["true"]', status: 'succeeded' },
      { argv: '["echo","unit","ok"]', status: 'succeeded' },
    ]);
    runs.close();
    return { stateRoot, liveWork, seededRuns };
  }

  /** What the controller's snapshot does: a consistent copy through SQLite, never a raw file copy. */
  function snapshotCopy(stateRoot: string): string {
    const copy = dir();
    const db = new Database(dbPathFor(stateRoot), { readonly: true });
    db.exec(`VACUUM INTO '${dbPathFor(copy)}'`);
    db.close();
    return copy;
  }

  /** verify (replayed) → report → dispatch the task that unblocked (not recorded) → verify it → status. */
  async function sequence(url: string): Promise<string[]> {
    const client = await connect(url);
    try {
      const answers: string[] = [];
      answers.push(await raw(client, 'verify', { task_id: 'T-TOUCH' }));
      answers.push(await raw(client, 'report', { task_id: 'T-TOUCH', outcome: 'done', agent: 'shadow' }));
      answers.push(await raw(client, 'dispatch', { task_id: 'T-NEXT', agent: 'shadow' }));
      answers.push(await raw(client, 'verify', { task_id: 'T-NEXT' }));
      answers.push(await raw(client, 'dispatch', { agent: 'shadow', command: exec('echo', 'never', 'recorded') }));
      answers.push(await raw(client, 'plan_next', { limit: 5 }));
      answers.push(await raw(client, 'orchestrator_status'));
      answers.push(await raw(client, 'autopilot_status'));
      return answers;
    } finally {
      await client.close();
    }
  }

  it('commits to its copy (later calls see earlier writes), replays recorded runs and spawns nothing', async () => {
    const { stateRoot, seededRuns } = await liveState();
    const sourceBefore = hashFiles(stateRoot);
    const copy = snapshotCopy(stateRoot);
    const copyBefore = hashFiles(copy);
    const sandboxWork = dir();

    const sandbox = await worker(copy, sandboxWork, { sandbox: true });
    expect(await (await fetch(`${sandbox.url}/version`)).json()).toMatchObject({ mode: 'sandbox', dry_run: false });
    const [verify, report, dispatchNext, verifyNext, unrecorded] = (await sequence(sandbox.url)).map((text) => JSON.parse(text));

    // The critics ran on replayed checks (in DRY_RUN this verdict is `not_run`).
    expect(verify).toMatchObject({ sandbox: true, dry_run: false, verdict: 'passed', passed: true, critics: { approved: true } });
    expect(verify.checks.map((check: { source: string; status: string }) => [check.source, check.status])).toEqual([
      ['replayed', 'succeeded'],
      ['replayed', 'succeeded'],
      ['replayed', 'succeeded'],
    ]);
    expect(report).toMatchObject({ sandbox: true, status: 'done', unblocked: ['T-NEXT'] });
    // T-NEXT is ready only because the report above was committed.
    expect(dispatchNext).toMatchObject({
      sandbox: true,
      task: { id: 'T-NEXT' },
      execution: { status: 'not_recorded', source: 'not_recorded', exit_code: null, duration_ms: 0, stdout: '' },
    });
    // T-NEXT's `true` check has the live smoke check's fingerprint: replayed, though another task ran it.
    expect(verifyNext).toMatchObject({ verdict: 'passed', checks: [{ source: 'replayed', status: 'succeeded' }] });
    expect(unrecorded).toMatchObject({ execution: { status: 'not_recorded', source: 'not_recorded', argv: ['echo', 'never', 'recorded'] } });

    expect(await spawns(sandbox.url)).toBe(0);
    await stop(sandbox);
    expect(readdirSync(sandboxWork)).toEqual([]);
    expect(existsSync(join(copy, 'sandbox'))).toBe(false);
    expect(hashFiles(copy)['orchestrator.db']).not.toBe(copyBefore['orchestrator.db']);
    expect(hashFiles(stateRoot)).toEqual(sourceBefore);

    const db = new Database(dbPathFor(copy), { readonly: true });
    try {
      expect(db.prepare("SELECT status FROM tasks WHERE id = 'T-TOUCH'").get()).toEqual({ status: 'done' });
      expect(db.prepare("SELECT status FROM dispatches WHERE task_id = 'T-NEXT'").get()).toEqual({ status: 'not_recorded' });
      expect(db.prepare('SELECT COUNT(*) AS n FROM executor_runs').get()).toEqual({ n: seededRuns + 4 });
    } finally {
      db.close();
    }
  });

  it('two sandbox lanes on two copies: byte-identical answers and identical rows, time columns included (logical clock)', async () => {
    const { stateRoot } = await liveState();
    const copies = [snapshotCopy(stateRoot), snapshotCopy(stateRoot)] as const;
    const answers: string[][] = [];
    for (const copy of copies) {
      const lane = await worker(copy, dir(), { sandbox: true });
      answers.push(await sequence(lane.url));
      await stop(lane);
    }
    const [a, b] = answers as [string[], string[]];
    // Every answer, autopilot_status's last-cycle stamps included, is byte for byte the same.
    expect(b).toEqual(a);
    const cycle = JSON.parse(a.at(-1)!).last_cycle;
    // The stamps come from the logical clock: after the copy's latest event, one step per call.
    const latestEvent = (() => {
      const db = new Database(dbPathFor(stateRoot), { readonly: true });
      try {
        return (db.prepare('SELECT MAX(at) AS at FROM events').get() as { at: string }).at;
      } finally {
        db.close();
      }
    })();
    expect(Date.parse(cycle.reported_at) - Date.parse(latestEvent)).toBe(2 * 1_000);
    expect(Date.parse(cycle.verification.verified_at) - Date.parse(latestEvent)).toBe(1 * 1_000);

    const [rowsA, rowsB] = copies.map((copy) => {
      const db = new Database(dbPathFor(copy), { readonly: true });
      try {
        const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((t) => t.name);
        return Object.fromEntries(tables.map((table) => [table, db.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).all()]));
      } finally {
        db.close();
      }
    });
    expect(rowsA!.critic_history!.length).toBeGreaterThan(0);
    // The rows the sequence wrote carry logical times, never the wall clock.
    const written = (rowsA!.events as Array<{ at: string }>).filter((event) => event.at > latestEvent);
    expect(written.length).toBeGreaterThan(0);
    expect(written.every((event) => Date.parse(event.at) - Date.parse(latestEvent) < 60_000)).toBe(true);
    expect(rowsB).toEqual(rowsA);
  });

  it('refuses WVO_DRY_RUN together with WVO_SANDBOX before touching the state', async () => {
    const stateRoot = dir();
    await expect(startWorker({ stateRoot, port: 0, dryRun: true, sandbox: true })).rejects.toMatchObject({
      code: 'WVO_WORKER_MODE_CONFLICT',
      subject: 'WVO_DRY_RUN,WVO_SANDBOX',
    });
    expect(readdirSync(stateRoot)).toEqual([]);
  });

  it('strict DRY_RUN is unchanged: /version says dry_run and verify does not run critics', async () => {
    const { stateRoot } = await liveState();
    const before = hashFiles(stateRoot);
    const lane = await worker(stateRoot, dir(), { dryRun: true });
    expect(await (await fetch(`${lane.url}/version`)).json()).toMatchObject({ mode: 'dry_run', dry_run: true });
    const client = await connect(lane.url);
    try {
      const verified = JSON.parse(await raw(client, 'verify', { task_id: 'T-TOUCH' }));
      expect(verified).toMatchObject({ dry_run: true, verdict: 'not_run', critics: null });
      expect(verified).not.toHaveProperty('sandbox');
    } finally {
      await client.close();
    }
    await stop(lane);
    expect(hashFiles(stateRoot)).toEqual(before);
  });
});
