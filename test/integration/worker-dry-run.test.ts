import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dbPathFor, MIGRATIONS, migrateStateRoot, seedState, startWorker, type WorkerHandle } from '../../worker/src/index.js';
import { call, connect, hashFiles, tempStateRoot } from './worker-helpers.js';

async function spawns(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('wvo_worker_executor_spawns_total '));
  return Number(line?.split(' ')[1]);
}

describe('worker DRY_RUN', () => {
  let state: ReturnType<typeof tempStateRoot>;
  let worker: WorkerHandle | undefined;
  beforeEach(() => {
    state = tempStateRoot();
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    state.cleanup();
  });

  it('runs every tool, says dry_run, spawns nothing, and leaves every file byte-identical', async () => {
    seedState({ stateRoot: state.dir, tasks: 200, seed: 42 });
    mkdirSync(join(state.dir, 'analytics'));
    writeFileSync(
      join(state.dir, 'analytics', 'upgrade_shadow.json'),
      JSON.stringify({ count: 2, path: 'experiments/mcp/upgrade/1/shadow.json', recorded_at: '2025-10-17T00:00:00Z' }),
    );
    const db = new Database(dbPathFor(state.dir), { fileMustExist: true });
    const seededInProgress = (db.prepare("SELECT id FROM tasks WHERE status = 'in_progress' ORDER BY id LIMIT 1").get() as { id: string }).id;
    db.close();
    const before = hashFiles(state.dir);
    const filesBefore = readdirSync(state.dir).sort();

    worker = await startWorker({ stateRoot: state.dir, port: 0, dryRun: true });
    expect(await (await fetch(`${worker.url}/version`)).json()).toMatchObject({ dry_run: true, schema_version: MIGRATIONS.length });
    expect((await fetch(`${worker.url}/readyz`)).status).toBe(200);
    const client = await connect(worker.url);
    try {
      const plan = await call(client, 'plan_next', { limit: 3 });
      expect(plan).toMatchObject({ isError: false, body: { dry_run: true } });
      const top = plan.body.tasks[0].id as string;

      const dispatched = await call(client, 'dispatch', { agent: 'shadow', command: { kind: 'exec', program: 'echo', args: ['hello'] } });
      expect(dispatched.body).toMatchObject({
        dry_run: true,
        task: { id: top },
        execution: { status: 'would_run', argv: ['echo', 'hello'], exit_code: null, overridden: true },
      });
      const own = await call(client, 'dispatch', { task_id: top });
      expect(own.body).toMatchObject({ dry_run: true, execution: { status: expect.stringMatching(/would_run|succeeded/) } });
      // Rolled back: the claimed task is still first in line.
      expect((await call(client, 'plan_next', { limit: 1 })).body.tasks[0].id).toBe(top);

      const status = await call(client, 'orchestrator_status');
      expect(status.body).toMatchObject({ dry_run: true, queue: { shadow_diffs: { count: 2 } } });
      const inProgress = status.body.queue.by_status.in_progress as number;
      expect(inProgress).toBeGreaterThan(0);

      const verified = await call(client, 'verify', { task_id: seededInProgress });
      expect(verified.body).toMatchObject({ dry_run: true, verdict: 'not_run', passed: null });
      expect(verified.body.checks.every((check: { status: string }) => check.status === 'would_run')).toBe(true);
      const reported = await call(client, 'report', { task_id: seededInProgress, outcome: 'failed' });
      expect(reported.body).toMatchObject({ dry_run: true, status: 'failed' });
      const autopilot = await call(client, 'autopilot_status');
      expect(autopilot.body).toMatchObject({ dry_run: true, mode: 'assist' });
      // The report above was rolled back: the task is still in progress.
      expect((await call(client, 'orchestrator_status')).body.queue.by_status.in_progress).toBe(inProgress);
      const refused = await call(client, 'dispatch', { command: { kind: 'exec', program: 'rm', args: ['x'] } });
      expect(refused.body).toMatchObject({ code: 'WVO_EXEC_NOT_ALLOWED', dry_run: true });
      expect(await spawns(worker.url)).toBe(0);
    } finally {
      await client.close();
    }
    await worker.close();
    worker = undefined;
    expect(readdirSync(state.dir).sort()).toEqual(filesBefore);
    expect(hashFiles(state.dir)).toEqual(before);
  });

  it('reads a database whose WAL is not checkpointed, without touching the db or the WAL', async () => {
    seedState({ stateRoot: state.dir, tasks: 20, seed: 3 });
    const writer = new Database(dbPathFor(state.dir));
    try {
      writer.pragma('wal_autocheckpoint = 0');
      writer
        .prepare("INSERT INTO tasks (id, title, priority, command_spec, created_at, updated_at) VALUES ('WAL-1', 'only in the WAL', 99, ?, 'x', 'x')")
        .run(JSON.stringify({ command: { kind: 'noop' } }));
      const before = hashFiles(state.dir);
      expect(Object.keys(before)).toContain('orchestrator.db-wal');

      worker = await startWorker({ stateRoot: state.dir, port: 0, dryRun: true });
      const client = await connect(worker.url);
      try {
        expect((await call(client, 'plan_next', { limit: 1 })).body.tasks[0].id).toBe('WAL-1');
        expect((await call(client, 'dispatch', {})).body).toMatchObject({ task: { id: 'WAL-1' }, dry_run: true });
      } finally {
        await client.close();
      }
      await worker.close();
      worker = undefined;
      expect(hashFiles(state.dir)).toEqual(before);
    } finally {
      writer.close();
    }
  });

  it('on a database that needs migration, migrates an in-memory copy only', async () => {
    migrateStateRoot(state.dir, { target: 1 });
    const before = hashFiles(state.dir);
    worker = await startWorker({ stateRoot: state.dir, port: 0, dryRun: true });
    expect(await (await fetch(`${worker.url}/version`)).json()).toMatchObject({ schema_version: MIGRATIONS.length, dry_run: true });
    expect((await fetch(`${worker.url}/readyz`)).status).toBe(200);
    await worker.close();
    worker = undefined;
    expect(hashFiles(state.dir)).toEqual(before);
  });

  it('with no database at all, serves an empty queue and creates nothing', async () => {
    worker = await startWorker({ stateRoot: state.dir, port: 0, dryRun: true });
    const client = await connect(worker.url);
    try {
      expect((await call(client, 'orchestrator_status')).body.queue.total).toBe(0);
      expect((await call(client, 'dispatch', {})).body).toMatchObject({ code: 'WVO_QUEUE_EMPTY', dry_run: true });
    } finally {
      await client.close();
    }
    await worker.close();
    worker = undefined;
    expect(readdirSync(state.dir)).toEqual([]);
  });
});
