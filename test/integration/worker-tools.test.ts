import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dbPathFor, migrateStateRoot, startWorker, type WorkerHandle } from '../../worker/src/index.js';
import { call, connect, tempStateRoot } from './worker-helpers.js';

const noop = { kind: 'noop' };
const run = (program: string, args: string[] = []) => ({ kind: 'exec', program, args });

/** A small, hand-made queue whose right answers are known. */
function buildState(dir: string): void {
  migrateStateRoot(dir);
  const db = new Database(dbPathFor(dir));
  const task = db.prepare(
    `INSERT INTO tasks (id, title, priority, dependencies, command_spec, estimated_tokens, area, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')`,
  );
  const spec = (command: unknown, checks: unknown[] = []) => JSON.stringify({ command, checks });
  task.run('A', 'Build the planner', 5, '[]', spec(run('echo', ['building', 'A']), [
    { name: 'smoke', command: run('true') },
    { name: 'ui-only', command: run('false'), tags: ['ui'] },
  ]), 1000, 'core');
  task.run('B', 'Wire the planner', 3, '["A"]', spec(noop), 800, 'core');
  task.run('C', 'Cache results', 4, '[]', spec(run('true'), [{ name: 'smoke', command: run('true') }]), 2000, 'data');
  task.run('D', 'Waits on a ghost', 9, '["X-missing"]', spec(noop), 500, 'core');
  const critic = db.prepare('INSERT INTO critics (id, name, strictness, reputation) VALUES (?, ?, ?, ?)');
  critic.run('lenient', 'Lenient', 0, 0.6);
  critic.run('strict', 'Strict', 0.9, 0.6);
  db.close();
}

function setFlag(dir: string, key: string, value: string): void {
  const db = new Database(dbPathFor(dir));
  db.prepare("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 'x') ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value);
  db.close();
}

describe('worker tools over MCP', () => {
  let state: ReturnType<typeof tempStateRoot>;
  let worker: WorkerHandle;
  let client: Client;
  beforeEach(async () => {
    state = tempStateRoot();
    buildState(state.dir);
    worker = await startWorker({ stateRoot: state.dir, port: 0 });
    client = await connect(worker.url);
  });
  afterEach(async () => {
    await client.close();
    await worker.close();
    state.cleanup();
  });

  it('lists the six tools with strict input schemas', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(
      ['autopilot_status', 'dispatch', 'orchestrator_status', 'plan_next', 'report', 'verify'].sort(),
    );
    for (const tool of tools) expect(tool.inputSchema).toMatchObject({ type: 'object', additionalProperties: false });
  });

  it('plan_next: ready tasks by priority; blocked and missing dependencies are left out', async () => {
    const plan = await call(client, 'plan_next', {});
    expect(plan.body.tasks.map((task: { id: string }) => task.id)).toEqual(['A', 'C']);
    expect(plan.body).toMatchObject({ ready_total: 2, dry_run: false });
    expect((await call(client, 'plan_next', { limit: 1 })).body.tasks.map((task: { id: string }) => task.id)).toEqual(['A']);
  });

  it('dispatch: claims the top task, runs its command, and refuses blocked or unknown tasks', async () => {
    const first = await call(client, 'dispatch', { agent: 'ada' });
    expect(first.body).toMatchObject({
      task: { id: 'A' },
      agent: 'ada',
      execution: { status: 'succeeded', exit_code: 0, stdout: 'building A', argv: ['echo', 'building', 'A'] },
      prompt: { mode: 'standard', text: expect.stringContaining('Checks: smoke, ui-only') },
    });
    expect((await call(client, 'plan_next', {})).body.tasks.map((task: { id: string }) => task.id)).toEqual(['C']);
    const again = await call(client, 'dispatch', { task_id: 'A' });
    expect(again.body).toMatchObject({ code: 'WVO_TASK_NOT_READY', field: 'task_id', details: { status: 'in_progress' } });
    const blocked = await call(client, 'dispatch', { task_id: 'B' });
    expect(blocked.body).toMatchObject({ code: 'WVO_TASK_NOT_READY', details: { unmet_dependencies: [{ id: 'A', status: 'in_progress' }] } });
    const ghost = await call(client, 'dispatch', { task_id: 'D' });
    expect(ghost.body.details.unmet_dependencies).toEqual([{ id: 'X-missing', status: 'missing' }]);
    expect((await call(client, 'dispatch', { task_id: 'Z' })).body).toMatchObject({ code: 'WVO_TASK_NOT_FOUND', field: 'task_id' });
    await call(client, 'dispatch', {});
    expect((await call(client, 'dispatch', {})).body).toMatchObject({ code: 'WVO_QUEUE_EMPTY' });
  });

  it('verify → report: failing checks block done; SELECTIVE_TESTS skips checks for other areas; done unblocks dependents', async () => {
    expect((await call(client, 'verify', { task_id: 'A' })).body).toMatchObject({ code: 'WVO_TASK_STATE', field: 'task_id' });
    await call(client, 'dispatch', { task_id: 'A' });

    const failed = await call(client, 'verify', { task_id: 'A' });
    expect(failed.body).toMatchObject({ verdict: 'failed', passed: false, pass_ratio: 0.5, selective_tests: false });
    const reviews = failed.body.critics.reviews as Array<{ critic_id: string; verdict: string; agreed: boolean; reputation_after: number }>;
    expect(reviews.find((r) => r.critic_id === 'lenient')).toMatchObject({ verdict: 'pass', agreed: false });
    expect(reviews.find((r) => r.critic_id === 'strict')).toMatchObject({ verdict: 'fail', agreed: true });
    expect((await call(client, 'report', { task_id: 'A', outcome: 'done' })).body).toMatchObject({ code: 'WVO_TASK_NOT_VERIFIED', field: 'outcome' });

    const critics = (await call(client, 'orchestrator_status')).body.critics;
    expect(critics).toMatchObject({ count: 2, reviews: 2, agreement_rate: 0.5, lowest: { id: 'lenient', reputation: 0.54 } });

    setFlag(state.dir, 'SELECTIVE_TESTS', 'on');
    const passed = await call(client, 'verify', { task_id: 'A' });
    expect(passed.body).toMatchObject({ verdict: 'passed', passed: true, selective_tests: true });
    expect(passed.body.checks).toEqual([
      expect.objectContaining({ name: 'smoke', status: 'succeeded' }),
      expect.objectContaining({ name: 'ui-only', status: 'not_selected', selected: false }),
    ]);
    const done = await call(client, 'report', { task_id: 'A', outcome: 'done', notes: 'merged', agent: 'ada' });
    expect(done.body).toMatchObject({ status: 'done', unblocked: ['B'] });
    expect((await call(client, 'plan_next', {})).body.tasks.map((task: { id: string }) => task.id)).toEqual(['C', 'B']);
    expect((await call(client, 'report', { task_id: 'A', outcome: 'failed' })).body).toMatchObject({ code: 'WVO_TASK_STATE' });

    const autopilot = await call(client, 'autopilot_status');
    expect(autopilot.body).toMatchObject({
      mode: 'assist',
      flags: { SELECTIVE_TESTS: { value: 'on', source: 'db' }, PROMPT_MODE: { value: 'standard', source: 'default' } },
      last_cycle: { task_id: 'A', outcome: 'done', agent: 'ada', verification: { passed: true } },
      cycles: { dispatches: 1, verifications: 2, reports: 1 },
    });
  });

  it('report retry returns the task to the queue; failed takes it out', async () => {
    await call(client, 'dispatch', { task_id: 'C' });
    expect((await call(client, 'report', { task_id: 'C', outcome: 'retry' })).body).toMatchObject({ status: 'open' });
    const plan = await call(client, 'plan_next', {});
    expect(plan.body.tasks.find((task: { id: string }) => task.id === 'C')).toMatchObject({ attempts: 1 });
    await call(client, 'dispatch', { task_id: 'C' });
    expect((await call(client, 'report', { task_id: 'C', outcome: 'failed' })).body).toMatchObject({ status: 'failed' });
    expect((await call(client, 'orchestrator_status')).body.queue.by_status).toEqual({ open: 3, in_progress: 0, done: 0, failed: 1 });
  });

  it('PROMPT_MODE=compact shortens prompts and lowers token pressure', async () => {
    const standard = await call(client, 'dispatch', { task_id: 'C' });
    const pressure = (await call(client, 'orchestrator_status')).body.token_pressure;
    expect(pressure).toMatchObject({ used_tokens: standard.body.prompt.tokens, budget: 200_000, level: 'low' });
    await call(client, 'report', { task_id: 'C', outcome: 'retry' });
    setFlag(state.dir, 'PROMPT_MODE', 'compact');
    const compact = await call(client, 'dispatch', { task_id: 'C' });
    expect(compact.body.prompt.mode).toBe('compact');
    expect(compact.body.prompt.text.length).toBeLessThan(standard.body.prompt.text.length);
    expect(compact.body.prompt.tokens).toBeLessThan(standard.body.prompt.tokens);
    expect((await call(client, 'orchestrator_status')).body.token_pressure.used_tokens).toBe(compact.body.prompt.tokens);
  });

  it('SANDBOX_MODE=strict refuses programs that are not sandbox-safe and runs the rest in the sandbox', async () => {
    const open = await call(client, 'dispatch', { task_id: 'C', command: run('git', ['status']) });
    expect(open.isError).toBe(false);
    await call(client, 'report', { task_id: 'C', outcome: 'retry' });
    setFlag(state.dir, 'SANDBOX_MODE', 'strict');
    const denied = await call(client, 'dispatch', { task_id: 'C', command: run('git', ['status']) });
    expect(denied.body).toMatchObject({ code: 'WVO_EXEC_SANDBOX_DENIED', field: 'command.program' });
    expect((await call(client, 'plan_next', {})).body.tasks.map((task: { id: string }) => task.id)).toContain('C');
    const allowed = await call(client, 'dispatch', { task_id: 'C', command: run('echo', ['inside']) });
    expect(allowed.body.execution).toMatchObject({ status: 'succeeded', cwd_kind: 'sandbox', stdout: 'inside' });
  });

  it('orchestrator_status reads .queue.shadow_diffs: missing → 0, valid → the summary, malformed → a warning', async () => {
    const status = await call(client, 'orchestrator_status');
    expect(status.body).toMatchObject({
      queue: { total: 4, ready: 2, blocked: 2, shadow_diffs: { count: 0, recorded_at: null, path: null } },
      warnings: [],
    });
    mkdirSync(join(state.dir, 'analytics'));
    const summary = { count: 4, path: 'experiments/mcp/upgrade/abc/shadow.json', recorded_at: '2025-10-17T12:00:00.000Z' };
    writeFileSync(join(state.dir, 'analytics', 'upgrade_shadow.json'), JSON.stringify(summary));
    expect((await call(client, 'orchestrator_status')).body.queue.shadow_diffs).toEqual(summary);
    writeFileSync(join(state.dir, 'analytics', 'upgrade_shadow.json'), '{"count": 4,');
    const malformed = await call(client, 'orchestrator_status');
    expect(malformed.isError).toBe(false);
    expect(malformed.body.queue.shadow_diffs).toEqual({ count: 0, recorded_at: null, path: null });
    expect(malformed.body.warnings).toEqual([expect.objectContaining({ code: 'WVO_SHADOW_SUMMARY_INVALID' })]);
  });

  it('flags from the launch config (WVO_FLAGS) beat the settings table', async () => {
    await client.close();
    await worker.close();
    setFlag(state.dir, 'PROMPT_MODE', 'standard');
    worker = await startWorker({ stateRoot: state.dir, port: 0, flags: { PROMPT_MODE: 'compact' } });
    client = await connect(worker.url);
    expect((await call(client, 'autopilot_status')).body.flags.PROMPT_MODE).toEqual({ value: 'compact', source: 'env' });
  });

  it('exposes metrics by tool and outcome', async () => {
    await call(client, 'plan_next', {});
    await call(client, 'dispatch', { task_id: 'Z' });
    const text = await (await fetch(`${worker.url}/metrics`)).text();
    expect(text).toMatch(/wvo_worker_tool_calls_total\{tool="plan_next",outcome="ok"\} 1/);
    expect(text).toMatch(/wvo_worker_tool_calls_total\{tool="dispatch",outcome="tool_error"\} 1/);
    expect(text).toMatch(/wvo_worker_tool_duration_seconds_count\{tool="plan_next"\} 1/);
    expect(text).toMatch(/wvo_worker_queue_depth\{status="ready"\} 2/);
    expect(text).toMatch(/wvo_worker_dry_run 0/);
    expect(text).toMatch(/wvo_worker_sessions 1/);
  });
});
