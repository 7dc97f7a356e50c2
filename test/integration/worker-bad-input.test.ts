import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbPathFor, seedState, startWorker, type WorkerHandle } from '../../worker/src/index.js';
import { WorkerError } from '../../worker/src/errors.js';
import { call, connect, rawPost, tempStateRoot } from './worker-helpers.js';

const PING = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' });

describe('worker bad input: each a coded error, nothing changed, still serving', () => {
  let state: ReturnType<typeof tempStateRoot>;
  let worker: WorkerHandle;
  let client: Client;
  let sessionId: string;
  let counts: () => Record<string, number>;
  let initial: Record<string, number>;

  beforeAll(async () => {
    state = tempStateRoot();
    seedState({ stateRoot: state.dir, tasks: 50, seed: 5 });
    const db = new Database(dbPathFor(state.dir));
    db.prepare(
      "INSERT INTO tasks (id, title, priority, command_spec, created_at, updated_at) VALUES ('BAD', 'bad spec', 100, ?, 'x', 'x')",
    ).run(JSON.stringify({ command: { kind: 'exec', program: 'echo', args: [], shell: true }, checks: [] }));
    db.close();
    worker = await startWorker({ stateRoot: state.dir, port: 0 });
    client = await connect(worker.url);
    sessionId = (client.transport as { sessionId?: string }).sessionId!;
    counts = () => {
      const reader = new Database(dbPathFor(state.dir), { readonly: true });
      try {
        const n = (table: string) => (reader.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
        const open = (reader.prepare("SELECT COUNT(*) AS n FROM tasks WHERE status = 'open'").get() as { n: number }).n;
        return { dispatches: n('dispatches'), events: n('events'), reports: n('reports'), verifications: n('verifications'), open };
      } finally {
        reader.close();
      }
    };
    initial = counts();
  });

  afterAll(async () => {
    // Still serving after everything below, and nothing was written.
    expect((await call(client, 'plan_next', { limit: 1 })).isError).toBe(false);
    expect((await fetch(`${worker.url}/readyz`)).status).toBe(200);
    expect(counts()).toEqual(initial);
    await client.close();
    await worker.close();
    state.cleanup();
  });

  const headers = () => ({ 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' });

  it('malformed JSON → 400 WVO_JSONRPC_PARSE', async () => {
    for (const extra of [{}, headers()]) {
      const reply = await rawPost(worker.url, '{"jsonrpc": "2.0", "method": ', extra);
      expect(reply.status).toBe(400);
      expect(reply.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700, data: { code: 'WVO_JSONRPC_PARSE', field: 'body' } } });
    }
  });

  it('JSON that is not JSON-RPC → 400 WVO_JSONRPC_INVALID', async () => {
    const reply = await rawPost(worker.url, JSON.stringify({ id: 3, method: 'tools/list' }), headers());
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ id: 3, error: { code: -32600, data: { code: 'WVO_JSONRPC_INVALID' } } });
  });

  it('a body over 1 MiB → 413 WVO_BODY_TOO_LARGE', async () => {
    const huge = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(1024 * 1024) } });
    const reply = await rawPost(worker.url, huge, headers());
    expect(reply.status).toBe(413);
    expect(reply.json).toMatchObject({ error: { data: { code: 'WVO_BODY_TOO_LARGE', field: 'body' } } });
  });

  it('a body that is not application/json → 415 WVO_CONTENT_TYPE', async () => {
    const reply = await rawPost(worker.url, PING, { ...headers(), 'content-type': 'text/plain' });
    expect(reply.status).toBe(415);
    expect(reply.json).toMatchObject({ error: { data: { code: 'WVO_CONTENT_TYPE' } } });
  });

  it('a missing Mcp-Session-Id → 400 WVO_SESSION_MISSING (POST, GET, DELETE)', async () => {
    const post = await rawPost(worker.url, PING);
    expect(post.status).toBe(400);
    expect(post.json).toMatchObject({ error: { data: { code: 'WVO_SESSION_MISSING', field: 'mcp-session-id' } } });
    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(`${worker.url}/mcp`, { method, headers: { accept: 'text/event-stream' } });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { data: { code: 'WVO_SESSION_MISSING' } } });
    }
  });

  it('an unknown Mcp-Session-Id → 404 WVO_SESSION_UNKNOWN (POST, GET, DELETE)', async () => {
    const unknown = { 'mcp-session-id': 'no-such-session', 'mcp-protocol-version': '2025-06-18' };
    const post = await rawPost(worker.url, PING, unknown);
    expect(post.status).toBe(404);
    expect(post.json).toMatchObject({ error: { code: -32001, data: { code: 'WVO_SESSION_UNKNOWN' } } });
    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(`${worker.url}/mcp`, { method, headers: { ...unknown, accept: 'text/event-stream' } });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { data: { code: 'WVO_SESSION_UNKNOWN' } } });
    }
  });

  it('a deleted session is unknown afterwards', async () => {
    const other = await connect(worker.url);
    const id = (other.transport as { sessionId?: string }).sessionId!;
    await (other.transport as unknown as { terminateSession(): Promise<void> }).terminateSession();
    await other.close();
    const reply = await rawPost(worker.url, PING, { 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' });
    expect(reply.status).toBe(404);
  });

  it('an unknown tool → WVO_TOOL_UNKNOWN', async () => {
    expect(await call(client, 'drop_tables', {})).toMatchObject({ isError: true, body: { code: 'WVO_TOOL_UNKNOWN', field: 'name' } });
  });

  it('wrong argument types and unknown keys → WVO_TOOL_INPUT_INVALID naming the field', async () => {
    expect((await call(client, 'plan_next', { limit: 'ten' })).body).toMatchObject({ code: 'WVO_TOOL_INPUT_INVALID', field: 'limit' });
    expect((await call(client, 'plan_next', { limit: 1000 })).body).toMatchObject({ code: 'WVO_TOOL_INPUT_INVALID', field: 'limit' });
    expect((await call(client, 'plan_next', { limit: 1, sort: 'x' })).body).toMatchObject({ code: 'WVO_TOOL_INPUT_INVALID', field: 'sort' });
    expect((await call(client, 'verify', {})).body).toMatchObject({ code: 'WVO_TOOL_INPUT_INVALID', field: 'task_id' });
    expect((await call(client, 'report', { task_id: 'T-0001', outcome: 'shipped' })).body).toMatchObject({ field: 'outcome' });
    expect((await call(client, 'dispatch', { agent: 'a b' })).body).toMatchObject({ field: 'agent' });
  });

  it('unknown keys and kinds in a task command → WVO_TOOL_INPUT_INVALID naming the key', async () => {
    const shell = await call(client, 'dispatch', { command: { kind: 'exec', program: 'echo', args: ['x'], shell: true } });
    expect(shell.body).toMatchObject({ code: 'WVO_TOOL_INPUT_INVALID', field: 'command.shell' });
    const env = await call(client, 'dispatch', { command: { kind: 'noop', env: { A: '1' } } });
    expect(env.body).toMatchObject({ field: 'command.env' });
    const kind = await call(client, 'dispatch', { command: { kind: 'bash', script: 'ls' } });
    expect(kind.body).toMatchObject({ code: 'WVO_TOOL_INPUT_INVALID', field: 'command.kind' });
    const args = await call(client, 'dispatch', { command: { kind: 'exec', program: 'echo', args: [1] } });
    expect(args.body).toMatchObject({ field: 'command.args[0]' });
  });

  it('a program not on the allow-list → WVO_EXEC_NOT_ALLOWED', async () => {
    const reply = await call(client, 'dispatch', { command: { kind: 'exec', program: 'curl', args: ['example.com'] } });
    expect(reply.body).toMatchObject({ code: 'WVO_EXEC_NOT_ALLOWED', field: 'command.program' });
  });

  it("shell metacharacters or '..' in arguments → WVO_EXEC_SHELL_METACHAR / WVO_EXEC_PATH_TRAVERSAL", async () => {
    for (const arg of ['x; rm -rf /', '$(whoami)', 'a|b', '`id`', 'out>file']) {
      const reply = await call(client, 'dispatch', { command: { kind: 'exec', program: 'echo', args: ['ok', arg] } });
      expect(reply.body).toMatchObject({ code: 'WVO_EXEC_SHELL_METACHAR', field: 'command.args[1]' });
    }
    const dots = await call(client, 'dispatch', { command: { kind: 'exec', program: 'git', args: ['diff', '../../etc/passwd'] } });
    expect(dots.body).toMatchObject({ code: 'WVO_EXEC_PATH_TRAVERSAL', field: 'command.args[1]' });
  });

  it('an argument outside the program pattern → WVO_EXEC_ARG_REJECTED', async () => {
    const reply = await call(client, 'dispatch', { command: { kind: 'exec', program: 'git', args: ['push', 'origin'] } });
    expect(reply.body).toMatchObject({ code: 'WVO_EXEC_ARG_REJECTED', field: 'command.args[0]' });
  });

  it('a stored task whose command has unknown keys → WVO_TASK_SPEC_INVALID naming the field, task not claimed', async () => {
    const reply = await call(client, 'dispatch', { task_id: 'BAD' });
    expect(reply.body).toMatchObject({ code: 'WVO_TASK_SPEC_INVALID', field: 'tasks[BAD].command_spec.command.shell' });
    expect((await call(client, 'plan_next', { limit: 1 })).body.tasks[0].id).toBe('BAD');
  });
});

describe('worker bad state root', () => {
  it('an unwritable state root → WVO_STATE_ROOT_UNWRITABLE, nothing listening', async () => {
    const state = tempStateRoot();
    try {
      // Root ignores permission bits, so use a path that cannot be a directory: under a file.
      writeFileSync(join(state.dir, 'a-file'), 'x');
      await expect(startWorker({ stateRoot: join(state.dir, 'a-file', 'state'), port: 0 })).rejects.toSatisfy(
        (error: unknown) => error instanceof WorkerError && error.code === 'WVO_STATE_ROOT_UNWRITABLE',
      );
    } finally {
      state.cleanup();
    }
  });

  it('a state root holding a file that is not SQLite → WVO_DB_OPEN_FAILED', async () => {
    const state = tempStateRoot();
    try {
      writeFileSync(dbPathFor(state.dir), 'this is not a database, just text that is long enough to have a header');
      await expect(startWorker({ stateRoot: state.dir, port: 0 })).rejects.toSatisfy(
        (error: unknown) => error instanceof WorkerError && error.code === 'WVO_DB_OPEN_FAILED',
      );
    } finally {
      state.cleanup();
    }
  });
});
