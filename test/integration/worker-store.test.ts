import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seedState, startWorker, MIGRATIONS, migrateStateRoot, dbPathFor, type Migration, type WorkerHandle } from '../../worker/src/index.js';
import { WorkerError } from '../../worker/src/errors.js';
import { call, connect, hashFiles, tempStateRoot } from './worker-helpers.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof WorkerError) return error.code;
    throw error;
  }
  throw new Error('expected a WorkerError');
}

/** Every row of every table, for comparing two databases by content. */
function dump(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>;
    return Object.fromEntries(tables.map(({ name }) => [name, db.prepare(`SELECT * FROM ${name} ORDER BY rowid`).all()]));
  } finally {
    db.close();
  }
}

describe('worker store: migrations', () => {
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

  it('migrates an empty state root to the latest version, recording each step and its kind', () => {
    const result = migrateStateRoot(state.dir);
    expect(result.from).toBe(0);
    expect(result.to).toBe(MIGRATIONS.length);
    expect(result.applied.map((m) => m.version)).toEqual(MIGRATIONS.map((m) => m.version));
    const db = new Database(dbPathFor(state.dir), { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.prepare('SELECT version, kind FROM schema_meta ORDER BY version').all()).toEqual(
        MIGRATIONS.map((m) => ({ version: m.version, kind: m.kind })),
      );
    } finally {
      db.close();
    }
    expect(migrateStateRoot(state.dir).applied).toEqual([]);
  });

  it('migrates an older schema at startup and keeps its data', async () => {
    migrateStateRoot(state.dir, { target: 1 });
    const db = new Database(dbPathFor(state.dir));
    db.prepare(
      "INSERT INTO tasks (id, title, priority, command_spec, created_at, updated_at) VALUES ('OLD-1', 'from v1', 3, ?, 'x', 'x')",
    ).run(JSON.stringify({ command: { kind: 'noop' } }));
    db.close();
    worker = await startWorker({ stateRoot: state.dir, port: 0 });
    const version = (await (await fetch(`${worker.url}/version`)).json()) as { schema_version: number };
    expect(version.schema_version).toBe(MIGRATIONS.length);
    const client = await connect(worker.url);
    try {
      const plan = await call(client, 'plan_next', {});
      expect(plan.body.tasks).toEqual([expect.objectContaining({ id: 'OLD-1', area: 'core', priority: 3 })]);
    } finally {
      await client.close();
    }
  });

  it('refuses to migrate a newer schema, and a worker on it stays unready without writing', async () => {
    seedState({ stateRoot: state.dir, tasks: 20, seed: 1 });
    const db = new Database(dbPathFor(state.dir));
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    expect(codeOf(() => migrateStateRoot(state.dir))).toBe('WVO_SCHEMA_TOO_NEW');
    const before = hashFiles(state.dir);

    worker = await startWorker({ stateRoot: state.dir, port: 0 });
    const ready = await fetch(`${worker.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, code: 'WVO_SCHEMA_TOO_NEW', reason: expect.stringContaining('newer') });
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    const client = await connect(worker.url);
    try {
      const status = await call(client, 'orchestrator_status');
      expect(status).toMatchObject({ isError: true, body: { code: 'WVO_SCHEMA_TOO_NEW' } });
    } finally {
      await client.close();
    }
    await worker.close();
    worker = undefined;
    const after = hashFiles(state.dir);
    expect(after['orchestrator.db']).toBe(before['orchestrator.db']);
  });

  it('a contract migration added to the list applies, and the older code then sees a newer schema', () => {
    const contract: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'drop_estimated_tokens',
      kind: 'contract',
      up: (db) => db.exec('ALTER TABLE tasks DROP COLUMN estimated_tokens'),
    };
    const extended = [...MIGRATIONS, contract];
    migrateStateRoot(state.dir);
    const result = migrateStateRoot(state.dir, { migrations: extended });
    expect(result.applied).toEqual([{ version: contract.version, name: contract.name, kind: 'contract' }]);
    expect(codeOf(() => migrateStateRoot(state.dir))).toBe('WVO_SCHEMA_TOO_NEW');
  });

  it('a failing migration leaves the previous version in place', () => {
    const broken: Migration = { version: MIGRATIONS.length + 1, name: 'broken', kind: 'expand', up: (db) => db.exec('ALTER TABLE nope ADD COLUMN x') };
    migrateStateRoot(state.dir);
    expect(codeOf(() => migrateStateRoot(state.dir, { migrations: [...MIGRATIONS, broken] }))).toBe('WVO_MIGRATION_FAILED');
    expect(migrateStateRoot(state.dir).to).toBe(MIGRATIONS.length);
  });

  it('rejects a migration list that is out of order', () => {
    expect(codeOf(() => migrateStateRoot(state.dir, { migrations: [MIGRATIONS[1]!, MIGRATIONS[0]!] }))).toBe('WVO_MIGRATION_FAILED');
  });

  it('keeps the events table append-only', () => {
    seedState({ stateRoot: state.dir, tasks: 5, seed: 1 });
    const db = new Database(dbPathFor(state.dir));
    try {
      expect(() => db.exec("UPDATE events SET kind = 'x'")).toThrow(/append-only/);
      expect(() => db.exec('DELETE FROM events')).toThrow(/append-only/);
    } finally {
      db.close();
    }
  });
});

describe('worker seed', () => {
  const roots: Array<ReturnType<typeof tempStateRoot>> = [];
  const root = () => {
    const made = tempStateRoot();
    roots.push(made);
    return made.dir;
  };
  afterEach(() => {
    for (const made of roots.splice(0)) made.cleanup();
  });

  it('is deterministic from --seed and realistic', () => {
    const [a, b, c] = [root(), root(), root()];
    const summary = seedState({ stateRoot: a, tasks: 500, seed: 42 });
    seedState({ stateRoot: b, tasks: 500, seed: 42 });
    seedState({ stateRoot: c, tasks: 500, seed: 7 });
    // schema_meta.applied_at is the only wall-clock value (when migrations ran).
    const content = (dir: string) => {
      const { schema_meta: _meta, ...rest } = dump(dbPathFor(dir));
      return rest;
    };
    expect(content(a)).toEqual(content(b));
    expect(dump(dbPathFor(a)).tasks).not.toEqual(dump(dbPathFor(c)).tasks);
    expect(summary.tasks).toBe(500);
    expect(summary.by_status.done).toBeGreaterThan(50);
    expect(summary.by_status.open).toBeGreaterThan(100);
    expect(summary.by_status.in_progress).toBeGreaterThan(0);
    expect(summary.verifications).toBeGreaterThan(50);
    const tasks = dump(dbPathFor(a)).tasks as Array<{ dependencies: string }>;
    expect(tasks.filter((task) => JSON.parse(task.dependencies).length > 0).length).toBeGreaterThan(150);
    const history = dump(dbPathFor(a)).critic_history as unknown[];
    expect(history.length).toBe(summary.verifications * summary.critics);
  });

  it('refuses to overwrite an existing database unless forced', () => {
    const dir = root();
    seedState({ stateRoot: dir, tasks: 10, seed: 1 });
    expect(codeOf(() => seedState({ stateRoot: dir, tasks: 10, seed: 1 }))).toBe('WVO_WORKER_OPTIONS_INVALID');
    expect(seedState({ stateRoot: dir, tasks: 12, seed: 1, force: true }).tasks).toBe(12);
  });
});
