/**
 * Proxy benchmark: tool calls/s and latency direct to an upstream MCP server, through `wvo proxy`
 * (the built CLI, its own process) and through nginx as a plain reverse proxy (keep-alive
 * upstream, no buffering), same load, then switch latency and rollback time.
 *
 *   npx tsx bench/proxy.ts [--upstream fixture|worker] [--sessions 32] [--seconds 4] [--rounds 2] [--no-build]
 *
 * Every process is on loopback and killed at the end. The load generator is a lean Streamable HTTP
 * client (undici, real MCP sessions: initialize, notifications/initialized, tools/call) so the
 * figures measure the proxies, not the SDK client's own CPU cost. Upstream, proxy and load
 * generator are separate processes sharing the machine's cores.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { ProxyAdminClient } from '../controller/src/proxy/index.js';
import { usageOnHelp } from './usage.js';

usageOnHelp(import.meta.url);

const ROOT = join(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    upstream: { type: 'string', default: 'fixture' },
    sessions: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '2' },
    'no-build': { type: 'boolean', default: false },
  },
});
const SESSIONS = Number(args.sessions);
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const TOKEN = 'bench-token';
const PROTOCOL = '2025-06-18';

const children: ChildProcess[] = [];
let scratch = '';

function spawnLine(command: string, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(command, argv, { cwd: ROOT, env: { ...process.env, WVO_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += String(c)));
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    // The first JSON line (V8 tracing flags in WVO_BENCH_PROXY_NODE_ARGS may print before it).
    const onLine = (line: string) => {
      if (!line.startsWith('{')) return;
      lines.off('line', onLine);
      resolve({ child, line });
    };
    lines.on('line', onLine);
    child.once('exit', (code) => reject(new Error(`${command} ${argv.join(' ')} exited ${code}: ${stderr.slice(0, 2000)}`)));
  });
}

/** CPU time (ms) used so far by a process and its children's threads (Linux /proc, 100 Hz ticks). */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** An upstream in its own process: the test fixture MCP server or the real worker. */
async function startUpstream(lane: string): Promise<{ url: string; pid: number }> {
  if (args.upstream === 'worker') {
    const state = join(scratch, `state-${lane}`);
    await mkdir(state, { recursive: true });
    execFileSync(process.execPath, ['dist/worker/src/main.js', 'seed', '--state', state, '--tasks', '200', '--seed', '42'], { cwd: ROOT, stdio: 'ignore' });
    const { line, child } = await spawnLine(process.execPath, ['dist/worker/src/main.js', 'serve', '--port', '0'], { WVO_STATE_ROOT: state });
    return { url: (JSON.parse(line) as { url: string }).url, pid: child.pid! };
  }
  const code = `const m = await import(${JSON.stringify(join(ROOT, 'test/fixtures/mcp-fixture-server.ts'))}); const s = await m.startFixtureServer({ lane: ${JSON.stringify(lane)} }); console.log(JSON.stringify({ url: s.url }));`;
  const { line, child } = await spawnLine(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code]);
  return { url: (JSON.parse(line) as { url: string }).url, pid: child.pid! };
}

async function startWvoProxy(lanes: Record<string, string>, active: string): Promise<{ url: string; admin: string; pid: number }> {
  const state = join(scratch, 'routes.json');
  const laneArgs = Object.entries(lanes).flatMap(([name, url]) => ['--lane', `${name}=${url}`]);
  const { line, child } = await spawnLine(
    process.execPath,
    // WVO_BENCH_PROXY_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile the proxy process.
    [...(process.env.WVO_BENCH_PROXY_NODE_ARGS?.split(' ').filter(Boolean) ?? []), 'dist/controller/src/cli/main.js', 'proxy', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--state', state, '--active', active, '--drain-timeout', '30s', ...laneArgs],
    { WVO_PROXY_TOKEN: TOKEN },
  );
  return { ...(JSON.parse(line) as { url: string; admin: string }), pid: child.pid! };
}

async function startNginx(upstream: string): Promise<{ url: string; pid: number }> {
  const prefix = join(scratch, 'nginx');
  await mkdir(join(prefix, 'tmp'), { recursive: true });
  const port = await freePort();
  const up = new URL(upstream);
  const conf = `worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body; proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fcgi; uwsgi_temp_path ${prefix}/tmp/uwsgi; scgi_temp_path ${prefix}/tmp/scgi;
  upstream lane { server ${up.host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://lane;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_buffering off;
      proxy_read_timeout 3600s;
    }
  }
}
`;
  await writeFile(join(prefix, 'nginx.conf'), conf);
  const child = spawn('/usr/sbin/nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log'), '-g', 'daemon off;'], { stdio: 'ignore' });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  const probe = new Pool(url);
  let ready = false;
  for (let i = 0; i < 200 && !ready; i++) {
    try {
      const r = await probe.request({ path: '/readyz', method: 'GET' });
      await r.body.dump();
      ready = true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  await probe.close();
  if (!ready) throw new Error(`nginx did not answer on ${url}: ${readFileSync(join(prefix, 'error.log'), 'utf8').slice(-1000)}`);
  return { url, pid: child.pid! };
}

/** A lean Streamable HTTP MCP session over an undici pool. */
class RawSession {
  private headers: Record<string, string> = {};
  constructor(private readonly pool: Pool) {}

  private async post(body: unknown, extra: Record<string, string> = {}): Promise<{ status: number; text: string; sid: string | undefined }> {
    const response = await this.pool.request({
      path: '/mcp',
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...this.headers, ...extra },
      body: JSON.stringify(body),
    });
    const text = await response.body.text();
    const sid = response.headers['mcp-session-id'];
    return { status: response.statusCode, text, sid: typeof sid === 'string' ? sid : undefined };
  }

  async init(): Promise<string> {
    const r = await this.post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
    if (r.status !== 200 || !r.sid) throw new Error(`initialize failed: ${r.status} ${r.text.slice(0, 200)}`);
    this.headers = { 'mcp-session-id': r.sid, 'mcp-protocol-version': PROTOCOL };
    const n = await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (n.status !== 202) throw new Error(`initialized failed: ${n.status}`);
    return r.sid;
  }

  private nextId = 1;
  /** One tool call; returns the parsed result (throws on HTTP or JSON-RPC error). */
  async call(tool: string, args: Record<string, unknown> = {}): Promise<unknown> {
    const r = await this.post({ jsonrpc: '2.0', id: this.nextId++, method: 'tools/call', params: { name: tool, arguments: args } });
    if (r.status !== 200) throw new Error(`tools/call ${r.status}: ${r.text.slice(0, 200)}`);
    const data = r.text.startsWith('{') ? r.text : r.text.split('\n').find((l) => l.startsWith('data:'))?.slice(5);
    const message = JSON.parse(data ?? 'null') as { result?: { content?: Array<{ text?: string }>; isError?: boolean }; error?: unknown };
    if (!message?.result || message.result.isError) throw new Error(`tool failed: ${r.text.slice(0, 200)}`);
    const text = message.result.content?.[0]?.text;
    return text ? JSON.parse(text) : message.result;
  }
}

const TOOL = args.upstream === 'worker' ? 'orchestrator_status' : 'whoami';

interface LoadResult {
  calls: number;
  failed: number;
  seconds: number;
  latencies: number[];
  /** CPU ms used during the measured window by the proxy in the path (0 for direct) and by the upstream. */
  proxyCpuMs: number;
  upstreamCpuMs: number;
}

async function load(url: string, seconds: number, proxyPids: () => number[] = () => [], upstreamPid = 0, count = SESSIONS): Promise<LoadResult> {
  const pool = new Pool(url, { connections: count, pipelining: 1 });
  try {
    const sessions = await Promise.all(Array.from({ length: count }, async () => {
      const s = new RawSession(pool);
      await s.init();
      return s;
    }));
    // warm-up
    const warmEnd = performance.now() + 500;
    await Promise.all(sessions.map(async (s) => {
      while (performance.now() < warmEnd) await s.call(TOOL);
    }));
    const latencies: number[] = [];
    let failed = 0;
    const cpu = () => proxyPids().reduce((n, pid) => n + cpuMs(pid), 0);
    const proxyCpu0 = cpu();
    const upstreamCpu0 = cpuMs(upstreamPid);
    const started = performance.now();
    const end = started + seconds * 1000;
    await Promise.all(sessions.map(async (s) => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await s.call(TOOL);
          latencies.push(performance.now() - t);
        } catch (error) {
          failed += 1;
          if (failed <= 3) console.error(`call failed via ${url}: ${String(error).slice(0, 300)}`);
        }
      }
    }));
    return {
      calls: latencies.length,
      failed,
      seconds: (performance.now() - started) / 1000,
      latencies,
      proxyCpuMs: cpu() - proxyCpu0,
      upstreamCpuMs: cpuMs(upstreamPid) - upstreamCpu0,
    };
  } finally {
    await pool.close();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function merge(results: LoadResult[]) {
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const sum = (pick: (r: LoadResult) => number) => results.reduce((n, r) => n + pick(r), 0);
  const calls = sum((r) => r.calls);
  return {
    rate: calls / sum((r) => r.seconds),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    calls,
    failed: sum((r) => r.failed),
    proxyCpuUs: (sum((r) => r.proxyCpuMs) * 1000) / calls,
    upstreamCpuUs: (sum((r) => r.upstreamCpuMs) * 1000) / calls,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  scratch = await mkdtemp(join(tmpdir(), 'wvo-bench-proxy-'));
  if (!args['no-build']) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  const blueUp = await startUpstream('blue');
  const greenUp = await startUpstream('green');
  const blue = blueUp.url;
  const proxy = await startWvoProxy({ blue, green: greenUp.url }, 'blue');
  const nginxUp = await startNginx(blue);
  const nginx = nginxUp.url;
  const admin = new ProxyAdminClient({ url: proxy.admin, token: TOKEN });
  for (let i = 0; i < 50 && !(await admin.lanes()).lanes.every((l) => l.healthy); i++) await new Promise((r) => setTimeout(r, 100));

  // Warm the JIT of the upstream and of the proxy (a long-running process pays compilation once,
  // not in the first measured window) before anything is measured; nginx for symmetry.
  await load(blue, 2);
  await load(proxy.url, 2);
  await load(nginx, 1);
  console.log(`upstream=${args.upstream} tool=${TOOL} sessions=${SESSIONS} ${ROUNDS} rounds × ${SECONDS}s per target (interleaved)`);
  const runs: Record<'direct' | 'wvo proxy' | 'nginx', LoadResult[]> = { direct: [], 'wvo proxy': [], nginx: [] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.direct.push(await load(blue, SECONDS, () => [], blueUp.pid));
    runs['wvo proxy'].push(await load(proxy.url, SECONDS, () => [proxy.pid], blueUp.pid));
    runs.nginx.push(await load(nginx, SECONDS, () => [nginxUp.pid, ...childPids(nginxUp.pid)], blueUp.pid));
  }
  // Added latency without queueing: one session, calls back to back.
  const single: Record<string, LoadResult[]> = { direct: [], 'wvo proxy': [], nginx: [] };
  for (let round = 0; round < ROUNDS; round++) {
    single.direct!.push(await load(blue, 2, () => [], blueUp.pid, 1));
    single['wvo proxy']!.push(await load(proxy.url, 2, () => [proxy.pid], blueUp.pid, 1));
    single.nginx!.push(await load(nginx, 2, () => [nginxUp.pid, ...childPids(nginxUp.pid)], blueUp.pid, 1));
  }
  const direct = merge(runs.direct);
  const singleDirect = merge(single.direct!);
  console.log('\none session (no queueing):\n| path | calls/s | p50 ms | p99 ms | added p50 ms | added p99 ms |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const [name, results] of Object.entries(single)) {
    const m = merge(results);
    const d = name === 'direct';
    console.log(`| ${name} | ${m.rate.toFixed(0)} | ${m.p50.toFixed(2)} | ${m.p99.toFixed(2)} | ${d ? '—' : (m.p50 - singleDirect.p50).toFixed(2)} | ${d ? '—' : (m.p99 - singleDirect.p99).toFixed(2)} |`);
  }
  console.log(`\n${SESSIONS} sessions:`);
  const rows = Object.entries(runs).map(([name, results]) => {
    const m = merge(results);
    return { name, ...m, ratio: m.rate / direct.rate, addedP50: m.p50 - direct.p50, addedP99: m.p99 - direct.p99 };
  });
  console.log('| path | calls/s | ratio vs direct | p50 ms | p99 ms | added p50 ms | added p99 ms | proxy CPU µs/call | upstream CPU µs/call | failed |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const direct = r.name === 'direct';
    console.log(
      `| ${r.name} | ${r.rate.toFixed(0)} | ${r.ratio.toFixed(2)}× | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${direct ? '—' : r.addedP50.toFixed(2)} | ` +
        `${direct ? '—' : r.addedP99.toFixed(2)} | ${direct ? '—' : r.proxyCpuUs.toFixed(0)} | ${r.upstreamCpuUs.toFixed(0)} | ${r.failed} |`,
    );
  }

  // Switch latency: admin call → first new session served by the new lane.
  const pool = new Pool(proxy.url, { connections: 8 });
  const switchTimes: number[] = [];
  const adminTimes: number[] = [];
  let lane = 'blue';
  for (let i = 0; i < 10; i++) {
    const to = lane === 'blue' ? 'green' : 'blue';
    const t0 = performance.now();
    const result = await admin.switchTo(to);
    adminTimes.push(performance.now() - t0);
    const s = new RawSession(pool);
    await s.init();
    const who = (await s.call('whoami').catch(() => s.call(TOOL))) as { lane?: string };
    switchTimes.push(performance.now() - t0);
    if (args.upstream === 'fixture' && who.lane !== to) throw new Error(`new session served by ${who.lane}, expected ${to}`);
    if (result.active !== to) throw new Error('switch did not take');
    lane = to;
  }
  if (lane !== 'blue') await admin.switchTo('blue');

  // Rollback: switch to green, open sessions there, roll back to blue; time until every session is served by blue.
  await admin.switchTo('green');
  const onGreen = await Promise.all(Array.from({ length: SESSIONS }, async () => {
    const s = new RawSession(pool);
    await s.init();
    await s.call(TOOL);
    return s;
  }));
  const r0 = performance.now();
  const rollback = await admin.switchTo('blue', { rollback: true });
  const rollbackAdmin = performance.now() - r0;
  const served = await Promise.all(onGreen.map(async (s) => {
    const value = (await s.call(TOOL)) as { lane?: string };
    return value.lane;
  }));
  const rollbackAll = performance.now() - r0;
  if (args.upstream === 'fixture' && served.some((l) => l !== 'blue')) throw new Error(`after rollback: ${served.join(',')}`);
  await pool.close();
  await admin.close();

  console.log(`\nswitch: admin call median ${median(adminTimes).toFixed(1)} ms (max ${Math.max(...adminTimes).toFixed(1)}); ` +
    `admin call → first new session served by the new lane median ${median(switchTimes).toFixed(1)} ms (max ${Math.max(...switchTimes).toFixed(1)}), 10 switches`);
  console.log(`rollback (immediate, ${SESSIONS} sessions on the abandoned lane): admin call ${rollbackAdmin.toFixed(1)} ms; ` +
    `every session answered by the old lane again after ${rollbackAll.toFixed(1)} ms (immediate=${rollback.immediate})`);
}

try {
  await main();
} finally {
  // SIGTERM first: nginx's master must take its worker down with it (SIGKILL would orphan it).
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  if (scratch) await rm(scratch, { recursive: true, force: true });
}
