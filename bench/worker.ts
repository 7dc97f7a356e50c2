/**
 * Worker benchmark: MCP tool calls/s and p50/p99 for orchestrator_status and plan_next at 1, 10
 * and 50 concurrent sessions on a 500-task seeded DB, then a long-run memory check (RSS before and
 * after many calls and session churn — the SDK's enableJsonResponse map leak, typescript-sdk #2559).
 * Then the cost of recording executor runs (executor_runs, for sandbox replay): verify's latency
 * (it spawns its checks, each recorded) next to the cost of one record on its own. Then the cost
 * of the call journal (issue 11) on write calls: the same write cycle on two processes, journal on
 * and off (WVO_BENCH_NO_JOURNAL=1, bench only), interleaved; and the same in process without HTTP.
 *
 *   npx tsx bench/worker.ts [--seconds 2] [--memory-calls 6000] [--records 2000] [--journal-only]
 *
 * The worker runs as its own process (dist build if present, else tsx), like in production.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import v8 from 'node:v8';
import vm from 'node:vm';
import Database from 'better-sqlite3';
import { dbPathFor, seedState, startWorker } from '../worker/src/index.js';
import { recordOf } from '../worker/src/executor/run-journal.js';
import { storeRunJournal } from '../worker/src/store/executor-runs.js';
import { Store } from '../worker/src/store/store.js';
import { usageOnHelp } from './usage.js';

usageOnHelp(import.meta.url);

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    'memory-calls': { type: 'string', default: '6000' },
    records: { type: 'string', default: '2000' },
    'journal-only': { type: 'boolean', default: false },
    'journal-calls': { type: 'string', default: '3000' },
  },
});
const JOURNAL_CALLS = Number(values['journal-calls']);
const RECORDS = Number(values.records);
const SECONDS = Number(values.seconds);
const MEMORY_CALLS = Number(values['memory-calls']);
const ROOT = join(import.meta.dirname, '..');
const MAIN = join(ROOT, 'dist', 'worker', 'src', 'main.js');

function startWorkerProcess(stateRoot: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const [command, args] = existsSync(MAIN)
    ? [process.execPath, [MAIN]]
    : [process.execPath, ['--import', 'tsx', join(ROOT, 'worker', 'src', 'main.ts')]];
  const child = spawn(command, [...args, 'serve', '--port', '0', '--state', stateRoot], {
    env: { ...process.env, WVO_LOG_LEVEL: 'warn', WVO_LOG_PRETTY: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ child, url: (JSON.parse(line) as { url: string }).url }));
  });
}

/** DELETE the session (the SDK client's close() alone leaves it to the idle sweep), then close. */
async function close(client: Client): Promise<void> {
  await (client.transport as StreamableHTTPClientTransport).terminateSession();
  await client.close();
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', url)));
  return client;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function measure(clients: Client[], tool: string, args: Record<string, unknown>, seconds: number) {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const result = await client.callTool({ name: tool, arguments: args });
        latencies.push(performance.now() - t0);
        if (result.isError) errors += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { calls: latencies.length, rate: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * RSS moves with GC timing, so a leak is confirmed or ruled out on the heap after a forced GC:
 * an in-process worker (same code) serves three equal batches; a leak shows as steady growth.
 */
async function heapAfterGc(stateRoot: string): Promise<void> {
  v8.setFlagsFromString('--expose_gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const worker = await startWorker({ stateRoot, port: 0 });
  try {
    const clients = await Promise.all(Array.from({ length: 10 }, () => connect(worker.url)));
    const batch = Math.ceil(MEMORY_CALLS / 3);
    const points = [heap()];
    for (let round = 0; round < 3; round += 1) {
      await Promise.all(
        clients.map(async (client) => {
          for (let i = 0; i < batch / clients.length; i += 1) await client.callTool({ name: 'plan_next', arguments: { limit: 5 } });
        }),
      );
      points.push(heap());
    }
    await Promise.all(clients.map((client) => close(client)));
    console.log(
      `in-process heap after forced GC (bench client included), every ${batch} calls: ${points.map(mb).join(' -> ')}`,
    );
  } finally {
    await worker.close();
  }
}

/**
 * What recording executor runs costs: verify on a live process (its checks spawn and each run is
 * recorded), then one record alone (insert + prune to the newest 5 of its fingerprint), in process
 * on its own state, over 50 fingerprints so the prune has work.
 */
async function executorRecording(url: string, stateRoot: string): Promise<void> {
  const db = new Database(dbPathFor(stateRoot), { readonly: true });
  const task = (db.prepare("SELECT t.id FROM tasks t WHERE t.status = 'in_progress' AND EXISTS (SELECT 1 FROM dispatches d WHERE d.task_id = t.id) ORDER BY t.id LIMIT 1").get() as { id: string }).id;
  db.close();
  const client = await connect(url);
  await measure([client], 'verify', { task_id: task }, 0.5);
  const verify = await measure([client], 'verify', { task_id: task }, SECONDS);
  await close(client);
  const runs = (await metric(url, 'wvo_worker_executor_spawns_total')) || NaN;

  const scratch = mkdtempSync(join(tmpdir(), 'wvo-bench-records-'));
  try {
    seedState({ stateRoot: scratch, tasks: 500, seed: 42 });
    const store = Store.open({ stateRoot: scratch, dryRun: false });
    const journal = storeRunJournal(store, () => new Date().toISOString());
    const result = { status: 'succeeded', argv: [], exit_code: 0, stdout: 'ok '.repeat(200), stderr: '', truncated: false, duration_ms: 3, timeout_ms: 5_000, source: 'spawned' } as const;
    const times: number[] = [];
    for (let i = 0; i < RECORDS; i += 1) {
      const plan = { kind: 'exec', argv: ['echo', 'check', `T-${i % 50}`], timeout_ms: 5_000, output_cap_bytes: 65_536, cwd: scratch, sandbox: false } as const;
      const t0 = performance.now();
      journal.record(recordOf(plan, { ...result, argv: plan.argv }));
      times.push(performance.now() - t0);
    }
    const kept = (store.db.prepare('SELECT COUNT(*) AS n FROM executor_runs').get() as { n: number }).n;
    store.close();
    times.sort((a, b) => a - b);
    const mean = times.reduce((sum, t) => sum + t, 0) / times.length;
    console.log(`\nexecutor runs: verify (spawns its checks, each recorded) ${verify.calls} calls, ${verify.rate.toFixed(0)} calls/s, p50 ${verify.p50.toFixed(2)} ms, p99 ${verify.p99.toFixed(2)} ms (${runs} spawns in the whole run)`);
    console.log(
      `one record (insert + prune, ${RECORDS} over 50 fingerprints, ${kept} rows kept): mean ${(mean * 1000).toFixed(0)} µs, p50 ${(percentile(times, 50) * 1000).toFixed(0)} µs, p99 ${(percentile(times, 99) * 1000).toFixed(0)} µs`,
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const stats = (times: number[]) => {
  const sorted = [...times].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
};
const pct = (on: number, off: number) => `${(((on - off) / off) * 100).toFixed(1)} %`;

/**
 * The write cycle both measurements use: dispatch (a noop override: two write transactions, no
 * spawn) then report retry (one transaction, the task goes back to the queue). Each is a journaled
 * write; reads are never journaled, so they are left out.
 */
async function writeCycle(callTool: (name: string, args: Record<string, unknown>) => Promise<boolean>, times: { dispatch: number[]; report: number[] }) {
  let t0 = performance.now();
  const task = await callTool('dispatch', { agent: 'bench', command: { kind: 'noop' } });
  times.dispatch.push(performance.now() - t0);
  if (!task) throw new Error('dispatch failed in the journal bench');
  t0 = performance.now();
  await callTool('report', { task_id: lastTask, outcome: 'retry', agent: 'bench' });
  times.report.push(performance.now() - t0);
}
let lastTask = '';

/** Journal cost: the same write cycle with the journal on and off, alternating blocks so load drift hits both. */
async function journalCost(): Promise<void> {
  const roots = { on: mkdtempSync(join(tmpdir(), 'wvo-bench-journal-on-')), off: mkdtempSync(join(tmpdir(), 'wvo-bench-journal-off-')) };
  const children: ChildProcess[] = [];
  try {
    for (const root of Object.values(roots)) seedState({ stateRoot: root, tasks: 500, seed: 42 });
    // 1) Over HTTP, each lane its own process (what an agent sees).
    const lanes = {
      on: await startWorkerProcess(roots.on),
      off: await startWorkerProcess(roots.off, { WVO_BENCH_NO_JOURNAL: '1' }),
    };
    children.push(lanes.on.child, lanes.off.child);
    const http = { on: { dispatch: [] as number[], report: [] as number[] }, off: { dispatch: [] as number[], report: [] as number[] } };
    const clients = { on: await connect(lanes.on.url), off: await connect(lanes.off.url) };
    const viaClient = (client: Client) => async (name: string, args: Record<string, unknown>) => {
      const result = await client.callTool({ name, arguments: args });
      const body = JSON.parse((result.content as Array<{ text: string }>)[0]!.text) as { task?: { id: string } };
      if (name === 'dispatch' && body.task) lastTask = body.task.id;
      return !result.isError;
    };
    const perBlock = Math.max(5, Math.round(JOURNAL_CALLS / 5 / 30));
    for (let i = 0; i < 10; i += 1) for (const side of ['on', 'off'] as const) await writeCycle(viaClient(clients[side]), { dispatch: [], report: [] });
    for (let block = 0; block < 30; block += 1) {
      for (const side of (block % 2 ? ['off', 'on'] : ['on', 'off']) as Array<'on' | 'off'>) {
        for (let i = 0; i < perBlock; i += 1) await writeCycle(viaClient(clients[side]), http[side]);
      }
    }
    await Promise.all([close(clients.on), close(clients.off)]);
    const entries = await journalEntries(roots.on);
    await Promise.all(children.map(stopChild));

    // 2) In process, no HTTP: the tool call alone (validation, transactions, journal append).
    const direct = { on: { dispatch: [] as number[], report: [] as number[] }, off: { dispatch: [] as number[], report: [] as number[] } };
    const { inProcessCaller } = await import('./worker-journal-caller.js');
    const callers = { on: inProcessCaller(roots.on, true), off: inProcessCaller(roots.off, false) };
    try {
      const perBlock = Math.max(50, Math.round(JOURNAL_CALLS / 20));
      for (let block = 0; block < 20; block += 1) {
        for (const side of (block % 2 ? ['off', 'on'] : ['on', 'off']) as Array<'on' | 'off'>) {
          for (let i = 0; i < perBlock; i += 1) {
            await writeCycle(async (name, args) => {
              const { ok, taskId } = await callers[side].call(name, args);
              if (taskId) lastTask = taskId;
              return ok;
            }, direct[side]);
          }
        }
      }
    } finally {
      callers.on.close();
      callers.off.close();
    }

    console.log(`
journal: write cycle (dispatch noop + report retry), journal on vs off, alternating blocks; ${entries} entries written by the HTTP "on" lane`);
    console.log('| path        | tool     | journal | calls | p50 ms | p99 ms | p50 added |');
    console.log('| ----------- | -------- | ------- | ----- | ------ | ------ | --------- |');
    for (const [label, data, digits] of [['HTTP (proc)', http, 2], ['in process', direct, 3]] as const) {
      for (const tool of ['dispatch', 'report'] as const) {
        const on = stats(data.on[tool]);
        const off = stats(data.off[tool]);
        for (const [side, s] of [['off', off], ['on', on]] as const) {
          console.log(`| ${label.padEnd(11)} | ${tool.padEnd(8)} | ${side.padEnd(7)} | ${String(s.n).padStart(5)} | ${s.p50.toFixed(digits).padStart(6)} | ${s.p99.toFixed(digits).padStart(6)} | ${side === 'on' ? pct(on.p50, off.p50).padStart(9) : ''.padStart(9)} |`);
        }
      }
    }
    // The append's own cost is the in-process difference (no transport noise); the call an agent
    // waits for is the HTTP one: their ratio is what the journal adds to a write call's p50.
    for (const tool of ['dispatch', 'report'] as const) {
      const added = stats(direct.on[tool]).p50 - stats(direct.off[tool]).p50;
      const base = stats(http.off[tool]).p50;
      console.log(`journal append on ${tool}: +${(added * 1000).toFixed(0)} µs per call = ${((added / base) * 100).toFixed(1)} % of its HTTP p50 (${base.toFixed(2)} ms, journal off)`);
    }
  } finally {
    await Promise.all(children.map(stopChild));
    for (const root of Object.values(roots)) rmSync(root, { recursive: true, force: true });
  }
}

async function journalEntries(stateRoot: string): Promise<number> {
  const db = new Database(dbPathFor(stateRoot), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM journal').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  if (values['journal-only']) return journalCost();
  const stateRoot = mkdtempSync(join(tmpdir(), 'wvo-bench-worker-'));
  let child: ChildProcess | undefined;
  try {
    seedState({ stateRoot, tasks: 500, seed: 42 });
    const worker = await startWorkerProcess(stateRoot);
    child = worker.child;
    const url = worker.url;
    console.log(`worker ${url} (500 tasks, seed 42), ${SECONDS}s per cell, node ${process.version}\n`);

    const rows: string[] = [];
    const header = '| tool                | sessions | calls | calls/s | p50 ms | p99 ms | errors |';
    rows.push(header, '| ------------------- | -------- | ----- | ------- | ------ | ------ | ------ |');
    console.log(rows.join('\n'));
    for (const sessions of [1, 10, 50]) {
      const clients = await Promise.all(Array.from({ length: sessions }, () => connect(url)));
      for (const [tool, args] of [['orchestrator_status', {}], ['plan_next', { limit: 10 }]] as const) {
        await measure(clients, tool, args, 0.5); // warm-up
        const r = await measure(clients, tool, args, SECONDS);
        rows.push(
          `| ${tool.padEnd(19)} | ${String(sessions).padStart(8)} | ${String(r.calls).padStart(5)} | ${r.rate.toFixed(0).padStart(7)} | ${r.p50.toFixed(2).padStart(6)} | ${r.p99.toFixed(2).padStart(6)} | ${String(r.errors).padStart(6)} |`,
        );
        console.log(rows.at(-1));
      }
      await Promise.all(clients.map((client) => close(client)));
    }

    await executorRecording(url, stateRoot);

    // Long run: many calls plus session churn. A per-call leak (like the SDK's JSON-response map,
    // typescript-sdk #2559) grows RSS linearly; we compare growth over two equal halves.
    const half = Math.ceil(MEMORY_CALLS / 2);
    console.log(`\nmemory: 2 x ${half} plan_next calls over 10 sessions, each half also opening and deleting 200 sessions`);
    const sample = async (label: string) => ({
      label,
      rss: await metric(url, 'process_resident_memory_bytes'),
      heap: await metric(url, 'nodejs_heap_size_used_bytes'),
      sessions: await metric(url, 'wvo_worker_sessions'),
    });
    const samples = [await sample('start')];
    let calls = 0;
    const started = performance.now();
    for (const label of ['after half 1', 'after half 2']) {
      const clients = await Promise.all(Array.from({ length: 10 }, () => connect(url)));
      await Promise.all(
        clients.map(async (client) => {
          for (let i = 0; i < half / clients.length; i += 1) await client.callTool({ name: 'plan_next', arguments: { limit: 5 } });
        }),
      );
      calls += half;
      await Promise.all(clients.map((client) => close(client)));
      for (let round = 0; round < 20; round += 1) {
        const churn = await Promise.all(Array.from({ length: 10 }, () => connect(url)));
        await Promise.all(churn.map((client) => client.callTool({ name: 'orchestrator_status', arguments: {} })));
        await Promise.all(churn.map((client) => close(client)));
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      samples.push(await sample(label));
    }
    const rate = calls / ((performance.now() - started) / 1000);
    console.log('| point        | RSS      | heap used | open sessions |');
    console.log('| ------------ | -------- | --------- | ------------- |');
    for (const s of samples) console.log(`| ${s.label.padEnd(12)} | ${mb(s.rss).padStart(8)} | ${mb(s.heap).padStart(9)} | ${String(s.sessions).padStart(13)} |`);
    const [a, b, c] = samples as [typeof samples[0], typeof samples[0], typeof samples[0]];
    console.log(
      `\n${calls} calls at ${rate.toFixed(0)} calls/s (+400 sessions opened and deleted); RSS growth: half 1 ${mb(b.rss - a.rss)}, half 2 ${mb(c.rss - b.rss)}`,
    );
    if (c.sessions !== 0) console.log(`WARNING: ${c.sessions} sessions were not freed`);
    await heapAfterGc(stateRoot);
    await journalCost();
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(stateRoot, { recursive: true, force: true });
  }
}

await main();
