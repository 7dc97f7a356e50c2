import Database from 'better-sqlite3';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dbPathFor, migrateStateRoot, startWorker, type WorkerHandle } from '../../worker/src/index.js';
import { call, connect, tempStateRoot } from './worker-helpers.js';

const TASKS = 120;

/** TASKS ready tasks, half running a real process (so calls interleave across awaits), half noop. */
function buildQueue(dir: string): void {
  migrateStateRoot(dir);
  const db = new Database(dbPathFor(dir));
  const insert = db.prepare(
    "INSERT INTO tasks (id, title, priority, command_spec, created_at, updated_at) VALUES (?, ?, ?, ?, 'x', 'x')",
  );
  db.transaction(() => {
    for (let i = 0; i < TASKS; i += 1) {
      const command = i % 2 === 0 ? { kind: 'exec', program: 'true', args: [] } : { kind: 'noop' };
      insert.run(`Q-${String(i).padStart(3, '0')}`, `task ${i}`, i % 5, JSON.stringify({ command, checks: [] }));
    }
  })();
  db.close();
}

/** Dispatches until the queue is empty; returns the ids this session claimed. */
async function drain(client: Client, agent: string): Promise<string[]> {
  const claimed: string[] = [];
  for (;;) {
    const reply = await call(client, 'dispatch', { agent });
    if (reply.isError) {
      expect(reply.body.code).toBe('WVO_QUEUE_EMPTY');
      return claimed;
    }
    claimed.push(reply.body.task.id as string);
  }
}

describe('worker concurrency', () => {
  let state: ReturnType<typeof tempStateRoot>;
  const workers: WorkerHandle[] = [];
  const clients: Client[] = [];
  beforeEach(() => {
    state = tempStateRoot();
    buildQueue(state.dir);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await Promise.all(workers.splice(0).map((worker) => worker.close()));
    state.cleanup();
  });

  function assertClaimedOnce(claims: string[][]): void {
    const all = claims.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(TASKS);
    const db = new Database(dbPathFor(state.dir), { readonly: true });
    try {
      const perTask = db.prepare('SELECT task_id, COUNT(*) AS n FROM dispatches GROUP BY task_id HAVING n > 1').all();
      expect(perTask).toEqual([]);
      expect((db.prepare('SELECT COUNT(*) AS n FROM dispatches').get() as { n: number }).n).toBe(TASKS);
      expect((db.prepare("SELECT COUNT(*) AS n FROM tasks WHERE status = 'in_progress'").get() as { n: number }).n).toBe(TASKS);
    } finally {
      db.close();
    }
  }

  it('20 concurrent sessions dispatching never claim a task twice', async () => {
    const worker = await startWorker({ stateRoot: state.dir, port: 0 });
    workers.push(worker);
    clients.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => connect(worker.url, `agent-${i}`)))));
    const claims = await Promise.all(clients.map((client, i) => drain(client, `agent-${i}`)));
    expect(claims.filter((list) => list.length > 0).length).toBeGreaterThan(1);
    assertClaimedOnce(claims);
  });

  it('two live workers on one database (blue and green during a switch) never claim a task twice', async () => {
    const blue = await startWorker({ stateRoot: state.dir, port: 0 });
    const green = await startWorker({ stateRoot: state.dir, port: 0 });
    workers.push(blue, green);
    clients.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => connect(i % 2 ? blue.url : green.url, `agent-${i}`)))));
    const claims = await Promise.all(clients.map((client, i) => drain(client, `agent-${i}`)));
    assertClaimedOnce(claims);
  });
});
