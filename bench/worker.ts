/**
 * Worker benchmark: MCP tool calls/s and p50/p99 for orchestrator_status and plan_next at 1, 10
 * and 50 concurrent sessions on a 500-task seeded DB, then a long-run memory check (RSS before and
 * after many calls and session churn — the SDK's enableJsonResponse map leak, typescript-sdk #2559).
 * Then the cost of recording executor runs (executor_runs, for sandbox replay): verify's latency
 * (it spawns its checks, each recorded) next to the cost of one record on its own.
 *
 *   npx tsx bench/worker.ts [--seconds 2] [--memory-calls 6000] [--records 2000]
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

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    'memory-calls': { type: 'string', default: '6000' },
    records: { type: 'string', default: '2000' },
  },
});
const RECORDS = Number(values.records);
const SECONDS = Number(values.seconds);
const MEMORY_CALLS = Number(values['memory-calls']);
const ROOT = join(import.meta.dirname, '..');
const MAIN = join(ROOT, 'dist', 'worker', 'src', 'main.js');

function startWorkerProcess(stateRoot: string): Promise<{ child: ChildProcess; url: string }> {
  const [command, args] = existsSync(MAIN)
    ? [process.execPath, [MAIN]]
    : [process.execPath, ['--import', 'tsx', join(ROOT, 'worker', 'src', 'main.ts')]];
  const child = spawn(command, [...args, 'serve', '--port', '0', '--state', stateRoot], {
    env: { ...process.env, WVO_LOG_LEVEL: 'warn', WVO_LOG_PRETTY: '0' },
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

async function main(): Promise<void> {
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
