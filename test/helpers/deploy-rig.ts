import { chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../common/src/clock.js';
import { parseConfig } from '../../controller/src/config/index.js';
import { openDeploy, progressLogger, type DeployContext } from '../../controller/src/operations/index.js';
import { DeploymentStore, type DeploymentRecord, type DeploymentState, type UpgradeSummary } from '../../controller/src/promotion/index.js';
import type { ProxyAdminClient, RunningProxy } from '../../controller/src/proxy/index.js';
import { LocalRuntime, type LaneRuntime } from '../../controller/src/runtime/index.js';
import { buildImages } from '../../controller/src/runtime/images/image-build.js';
import { seedState } from '../../worker/src/index.js';
import { PROXY_TOKEN, startBlueProxy } from './blue-proxy.js';
import { sleep } from './sleep.js';
import { writeFrontedWorkerTree } from './fronted-worker-tree.js';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const CLI_MAIN = join(REPO_ROOT, 'dist/controller/src/cli/main.js');
export { PROXY_TOKEN };
export const WORKER_TOKEN = 'deploy-worker-token-0123456789';

/**
 * A built tree whose worker fails every second tool call with HTTP 500 while SANDBOX_MODE is on:
 * the real worker (this repo's dist/) behind a small fault front in the same process. It is a
 * real lane (the local runtime starts it like any tree), a candidate that breaks under a flag.
 */
export function makeFlakyTree(dir: string): string {
  return writeFrontedWorkerTree(
    dir,
    'flaky-worker',
    `let failing = false;
let calls = 0;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (failing && req.method === 'POST' && body.includes('"tools/call"') && ++calls % 2 === 0) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"injected fault: SANDBOX_MODE breaks this candidate"}');
      return;
    }
    const up = http.request(inner.url + req.url, { method: req.method, headers: req.headers }, (ur) => {
      if (req.method === 'PUT' && req.url === '/admin/flags/SANDBOX_MODE' && ur.statusCode === 200) {
        failing = JSON.parse(body.toString()).value !== 'off';
      }
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
    res.on('close', () => up.destroy());
    up.end(body);
  });
});
`,
  );
}

export interface DeployRig {
  root: string;
  stateRoot: string;
  runtime: LaneRuntime;
  proxy: RunningProxy;
  admin: ProxyAdminClient;
  store: DeploymentStore;
  deploy: DeployContext;
  /** wvo.config.json for CLI processes (local runtime, this state root, the proxy's admin URL). */
  configFile: string;
  /** Record a staged upgrade blue → green (tests and schema-compat ok unless overridden). */
  stage(overrides?: Partial<UpgradeSummary>): UpgradeSummary;
  waitForState(id: string, states: DeploymentState[], timeoutMs?: number): Promise<DeploymentRecord>;
  close(): Promise<void>;
}

/**
 * Seeded live state, lane `blue` (this repo's built tree, DRY_RUN=0) started by the local
 * runtime, a real proxy in front (admin on loopback, short drain), and the deploy executor.
 */
export async function startDeployRig(
  options: {
    drainTimeoutMs?: number;
    tasks?: number;
    /** Default: the local runtime (run dir as `openCliContext` uses). */
    runtime?: (stateRoot: string) => LaneRuntime;
    /** The lanes' image (default: this repo's built tree). */
    image?: string;
    /** After seeding, before blue starts (e.g. chown for a container's user). */
    afterSeed?: (stateRoot: string) => void;
  } = {},
): Promise<DeployRig> {
  const image = options.image ?? REPO_ROOT;
  const root = mkdtempSync(join(tmpdir(), 'wvo-deploy-test-'));
  const stateRoot = join(root, 'state');
  const cleanups: Array<() => Promise<unknown> | unknown> = [() => !process.env.DEPLOY_TEST_KEEP && rmSync(root, { recursive: true, force: true })];
  const close = async () => {
    for (const fn of cleanups.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
  };
  try {
    await seedState({ stateRoot, tasks: options.tasks ?? 300, seed: 7 });
    options.afterSeed?.(stateRoot);
    // Same run dir as `openCliContext`, so spawned `wvo` processes see these lanes.
    const runtime =
      options.runtime?.(stateRoot) ?? new LocalRuntime({ runDir: join(stateRoot, 'runtime', 'local'), readyTimeoutMs: 20_000, stopTimeoutMs: 5_000 });
    cleanups.push(async () => {
      for (const lane of await runtime.listLanes()) await runtime.removeLane(lane.name, { timeoutMs: 2_000 });
    });
    const blue = await runtime.startLane({
      name: 'blue',
      image,
      stateDir: stateRoot,
      dryRun: false,
      role: 'live',
      env: { WVO_ADMIN_TOKEN: WORKER_TOKEN },
    });
    const { proxy, admin } = await startBlueProxy({
      statePath: join(root, 'routes.json'),
      blueUrl: blue.url!,
      ...(options.drainTimeoutMs !== undefined ? { drainTimeoutMs: options.drainTimeoutMs } : {}),
      cleanups,
    });
    const store = DeploymentStore.open(stateRoot);
    cleanups.push(() => store.close());
    const config = parseConfig({ runtime: 'local', stateRoot: './state', proxy: { admin: proxy.adminUrl }, lanes: { readyTimeoutMs: 20_000, stopTimeoutMs: 5_000 } });
    const configFile = join(root, 'wvo.config.json');
    writeFileSync(configFile, JSON.stringify({ runtime: 'local', stateRoot: './state', proxy: { admin: proxy.adminUrl }, lanes: { readyTimeoutMs: 20_000, stopTimeoutMs: 5_000 } }));
    const deploy = await openDeploy({
      config,
      projectRoot: root,
      stateRoot,
      runtime,
      proxy: admin,
      store,
      clock: systemClock,
      env: { WVO_ADMIN_TOKEN: WORKER_TOKEN },
      // DEPLOY_TEST_LOG=1 prints the executor's progress lines with times (debugging slow steps).
      ...(process.env.DEPLOY_TEST_LOG ? { logger: progressLogger('[deploy]', (line) => console.error(`${new Date().toISOString().slice(11, 23)} ${line}`)) } : {}),
    });
    let n = 0;
    return {
      root,
      stateRoot,
      runtime,
      proxy,
      admin,
      store,
      deploy,
      configFile,
      stage(overrides = {}) {
        const summary: UpgradeSummary = {
          id: `up-test-${++n}`,
          outcome: 'passed',
          steps: ['preflight', 'lock', 'stage', 'build', 'test', 'snapshot', 'shadow', 'schema-compat', 'summary'].map((name) => ({ name, status: 'ok' })),
          baseline: { lane: 'blue', image },
          candidate: { lane: 'green', image },
          ...overrides,
        };
        store.recordUpgrade(summary, Date.now());
        return summary;
      },
      async waitForState(id, states, timeoutMs = 30_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const record = store.find(id);
          if (record && states.includes(record.state)) return record;
          if (Date.now() > deadline) throw new Error(`deployment ${id} did not reach ${states.join('|')} (now ${record?.state})`);
          await sleep(25);
        }
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The worker container runs as 1000:1000 and must own the live state (docker rigs: `afterSeed`). */
export function chownTree(dir: string): void {
  chownSync(dir, 1000, 1000);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) chownTree(path);
    else chownSync(path, 1000, 1000);
  }
}

/** `wvo-worker:<tag>` built from this repo's tree (offline base when node:20 is absent). */
export async function buildRepoWorkerImage(docker: Docker, tag: string): Promise<void> {
  await buildImages(docker, {
    root: REPO_ROOT,
    tag,
    kinds: ['worker'],
    nodeImage: 'node:20-bookworm-slim',
    pull: false,
    baseImage: 'wvo-node-base',
    repositories: { worker: 'wvo-worker', controller: 'wvo-controller' },
  });
}

/**
 * `wvo rollback` through the rig's operations, timed two ways: the call → the proxy routing back
 * (the rollback switch's own time: what users feel), and the whole command (which then also
 * drains and stops the candidate). `trafficBackMs` is undefined when no switch back happened.
 */
export async function timedRollback(rig: DeployRig, input: { id?: string; reason: string }) {
  const switchesBefore = rig.deploy.runner.switches.length;
  const startedAt = Date.now();
  const record = await rig.deploy.operations.rollback(input);
  const wholeMs = Date.now() - startedAt;
  const back = rig.deploy.runner.switches.slice(switchesBefore).find((s) => s.rollback);
  return { record, wholeMs, trafficBackMs: back ? Date.parse(back.at) - startedAt : undefined };
}


/** `wvo <args> --json` as its own process (a controller), against the rig's config, proxy and state. */
export function runWvo(rig: DeployRig, args: string[]) {
  return execa(process.execPath, [CLI_MAIN, ...args, '--config', rig.configFile, '--json'], {
    cwd: rig.root,
    env: { WVO_PROXY_TOKEN: PROXY_TOKEN, WVO_ADMIN_TOKEN: WORKER_TOKEN, WVO_LOG_LEVEL: 'warn' },
    reject: false,
  });
}
