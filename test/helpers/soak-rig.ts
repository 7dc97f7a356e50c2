import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { systemClock } from '../../common/src/clock.js';
import { createLogger, silentLogger } from '../../common/src/logger.js';
import { DeploymentStore } from '../../controller/src/promotion/index.js';
import { LocalRuntime, type LaneRuntime } from '../../controller/src/runtime/index.js';
import { SoakOperations, SoakStore } from '../../controller/src/soak/index.js';
import { seedState } from '../../worker/src/index.js';
import { call, connect } from '../integration/worker-helpers.js';
import { REPO_ROOT } from './runtime-fixtures.js';

export const SOAK_TOKEN = 'soak-test-token';

/**
 * A built worker tree with one compiled file edited: a candidate whose change is write-only (it
 * stores something else than it answers). node_modules is linked from this checkout.
 */
export function faultyTree(file: string, from: string, to: string): { tree: string; cleanup: () => void } {
  const tree = mkdtempSync(join(tmpdir(), 'wvo-soak-tree-'));
  cpSync(join(REPO_ROOT, 'dist'), join(tree, 'dist'), { recursive: true });
  cpSync(join(REPO_ROOT, 'package.json'), join(tree, 'package.json'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(tree, 'node_modules'));
  const path = join(tree, 'dist', file);
  const original = readFileSync(path, 'utf8');
  const changed = original.replace(from, to);
  if (changed === original) throw new Error(`faultyTree: ${file} does not contain ${from}`);
  writeFileSync(path, changed);
  // The worker loads its bundle when fresh: without one it runs the (edited) modules.
  rmSync(join(tree, 'dist', 'worker', 'bundle'), { recursive: true, force: true });
  return { tree, cleanup: () => rmSync(tree, { recursive: true, force: true }) };
}

/** The compiled `report` stores a retried task as `failed` while answering `open` (bench/shadow-power's report-retry-failed). */
export const REPORT_RETRY_FAILED = {
  file: 'worker/src/tools/report.js',
  from: 'setTaskStatus(context.db, task.id, status, at)',
  to: "setTaskStatus(context.db, task.id, input.outcome === 'retry' ? 'failed' : status, at)",
} as const;

export interface SoakRig {
  readonly root: string;
  readonly stateRoot: string;
  readonly runtime: LaneRuntime;
  readonly liveUrl: string;
  readonly store: SoakStore;
  operations(overrides?: Partial<ConstructorParameters<typeof SoakOperations>[0]>): SoakOperations;
  cleanup(): Promise<void>;
}

/**
 * A project dir with a seeded live state, a live lane `blue` (this checkout's worker, journaling)
 * on the local runtime (or `runtime`, on its `host`), and a staged upgrade whose candidate is
 * `candidateImage` (a tree).
 */
export async function soakRig(options: { candidateImage?: string; tasks?: number; runtime?: LaneRuntime; baselineImage?: string; host?: string } = {}): Promise<SoakRig> {
  const root = mkdtempSync(join(tmpdir(), 'wvo-soak-test-'));
  const stateRoot = join(root, 'state');
  mkdirSync(stateRoot, { recursive: true });
  seedState({ stateRoot, tasks: options.tasks ?? 60, seed: 11 });
  // Where `wvo` run in `root` looks for local lanes (config stateRoot `state`), so the CLI sees them.
  const runtime = options.runtime ?? new LocalRuntime({ runDir: join(stateRoot, 'runtime', 'local') });
  const baselineImage = options.baselineImage ?? REPO_ROOT;
  const stores: SoakStore[] = [];
  const live = await runtime.startLane(
    { name: `blue-${root.slice(-6).toLowerCase().replace(/[^a-z0-9]/g, '')}`, image: baselineImage, stateDir: stateRoot, mode: 'live', role: 'live', env: { WVO_ADMIN_TOKEN: SOAK_TOKEN }, ...(options.host ? { host: options.host } : {}) },
    { readyTimeoutMs: 60_000 },
  );
  const deployments = DeploymentStore.open(stateRoot);
  deployments.recordUpgrade(
    {
      id: 'up-soak',
      outcome: 'passed',
      steps: [
        { name: 'test', status: 'ok' },
        { name: 'schema-compat', status: 'ok' },
      ],
      baseline: { lane: live.name, image: baselineImage },
      candidate: { lane: 'green', image: options.candidateImage ?? baselineImage },
    },
    1,
  );
  deployments.close();
  const store = SoakStore.open(stateRoot);
  stores.push(store);
  return {
    root,
    stateRoot,
    runtime,
    liveUrl: live.url!,
    store,
    operations(overrides = {}) {
      const own = overrides.store ?? SoakStore.open(stateRoot);
      if (!overrides.store) stores.push(own);
      return new SoakOperations({
        store: own,
        runtime,
        clock: systemClock,
        logger: process.env.SOAK_DEBUG ? createLogger('soak-test') : silentLogger(),
        token: SOAK_TOKEN,
        ...(process.env.SOAK_DEBUG ? { onProgress: (rec: { last_seq: number; state: string; lag_calls: number }, what: string) => console.log(what, rec.last_seq, rec.state, rec.lag_calls) } : {}),
        readyTimeoutMs: 60_000,
        projectRoot: root,
        stateRoot,
        resolveUpgrade: (id) => {
          const d = DeploymentStore.open(stateRoot);
          try {
            return d.getUpgrade(id);
          } finally {
            d.close();
          }
        },
        ...overrides,
      });
    },
    async cleanup() {
      for (const lane of await runtime.listLanes()) await runtime.removeLane(lane.name, { timeoutMs: 5_000 }).catch(() => undefined);
      for (const s of stores) s.close();
      if (!options.runtime) await runtime.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** One agent's mixed traffic (reads and writes, retries included); returns how many write calls it made. */
export async function agentLoop(client: Client, name: string, rounds: number): Promise<number> {
  let writes = 0;
  for (let round = 0; round < rounds; round += 1) {
    await call(client, 'plan_next', { limit: 3 });
    const dispatched = await call(client, 'dispatch', { agent: name });
    writes += 1;
    if (dispatched.isError) continue;
    const taskId = dispatched.body.task.id as string;
    const verified = await call(client, 'verify', { task_id: taskId });
    writes += 1;
    const outcome = round % 2 ? 'retry' : !verified.isError && verified.body.passed ? 'done' : 'failed';
    await call(client, 'report', { task_id: taskId, outcome, agent: name, notes: `round ${round}` });
    writes += 1;
    await call(client, 'orchestrator_status');
  }
  return writes;
}

/** `agents` concurrent MCP clients on the live lane, `rounds` each; the number of journaled writes. */
export async function liveTraffic(url: string, agents: number, rounds: number): Promise<number> {
  const clients = await Promise.all(Array.from({ length: agents }, (_, i) => connect(url, `agent-${i}`)));
  try {
    const writes = await Promise.all(clients.map((client, i) => agentLoop(client, `agent-${i}`, rounds)));
    return writes.reduce((sum, n) => sum + n, 0);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

export async function liveHead(url: string): Promise<number> {
  const response = await fetch(`${url}/journal/head`, { headers: { authorization: `Bearer ${SOAK_TOKEN}` } });
  return ((await response.json()) as { head: number }).head;
}

/** Waits until the soak has replayed up to `seq` (or fails after `timeoutMs`). */
export async function replayedUpTo(store: SoakStore, id: string, seq: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = store.find(id)!;
    if (record.last_seq >= seq) return;
    if (record.state !== 'running') throw new Error(`soak ${id} ended (${record.state}${record.error ? `: ${record.error.code} ${record.error.message}` : ''}) at seq ${record.last_seq} before ${seq}`);
    if (Date.now() > deadline) throw new Error(`soak ${id} replayed up to ${record.last_seq}, not ${seq}, within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
