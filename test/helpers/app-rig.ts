import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { waitFor } from '../../common/src/clock.js';
import { parseConfig } from '../../controller/src/config/index.js';
import type { ProxyAdminClient, RunningProxy } from '../../controller/src/proxy/index.js';
import { dockerRuntimeFrom, laneAppFrom, LocalRuntime, type LaneRuntime } from '../../controller/src/runtime/index.js';
import { PROXY_TOKEN, startBlueProxy } from './blue-proxy.js';
import { CLI_MAIN } from './deploy-rig.js';
import { everythingAppConfig } from './everything.js';

export interface AppRig {
  root: string;
  stateRoot: string;
  configFile: string;
  runtime: LaneRuntime;
  proxy: RunningProxy;
  admin: ProxyAdminClient;
  /** `wvo ARGS --config <rig> --json` in the rig's directory. */
  wvo(args: string[]): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

/**
 * A live "everything" server behind a real proxy, as a team with its own MCP server would run
 * WVO: lane `blue` runs `baseline` (a docker image, or a local command image), health is MCP,
 * and wvo.config.json declares the app (`apps.everything`).
 */
export async function startAppRig(options: { runtime: 'local' | 'docker'; baseline: string; project?: string; drainTimeoutMs?: number }): Promise<AppRig> {
  const root = mkdtempSync(join(tmpdir(), 'wvo-app-rig-'));
  const stateRoot = join(root, 'state');
  const cleanups: Array<() => unknown> = [() => rmSync(root, { recursive: true, force: true })];
  const close = async () => {
    for (const fn of cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => undefined);
  };
  try {
    const app = everythingAppConfig(options.runtime === 'docker' ? { image: options.baseline } : {});
    const file = {
      runtime: options.runtime,
      ...(options.project ? { projectName: options.project } : {}),
      stateRoot: './state',
      images: { pull: false },
      lanes: { readyTimeoutMs: 30_000, stopTimeoutMs: 5_000 },
      apps: { everything: app },
    };
    const config = parseConfig(file);
    const runtime: LaneRuntime =
      options.runtime === 'docker' ? dockerRuntimeFrom(config, { baseDir: root }) : new LocalRuntime({ runDir: join(stateRoot, 'runtime', 'local'), readyTimeoutMs: 30_000, stopTimeoutMs: 5_000 });
    cleanups.push(async () => {
      for (const lane of await runtime.listLanes()) await runtime.removeLane(lane.name, { timeoutMs: 2_000 });
      await runtime.close();
    });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(stateRoot, { recursive: true });
    const blue = await runtime.startLane({ name: 'blue', image: options.baseline, stateDir: stateRoot, dryRun: false, role: 'live', app: laneAppFrom('everything', app, root) });
    const { proxy, admin } = await startBlueProxy({
      statePath: join(root, 'routes.json'),
      blueUrl: blue.url!,
      health: 'mcp',
      ...(options.drainTimeoutMs !== undefined ? { drainTimeoutMs: options.drainTimeoutMs } : {}),
      cleanups,
    });
    // The proxy's first MCP probe (initialize, ping, tools/list) can take seconds on a loaded
    // machine; an operator waits for a healthy live lane before upgrading, and so does the rig.
    let last: unknown;
    await waitFor(
      async () => {
        last = (await admin.lanes()).lanes.find((l) => l.name === 'blue');
        return (last as { healthy?: boolean } | undefined)?.healthy ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, onTimeout: () => new Error(`app rig: lane blue never became healthy behind the proxy: ${JSON.stringify(last)}`) },
    );
    const configFile = join(root, 'wvo.config.json');
    writeFileSync(configFile, JSON.stringify({ ...file, proxy: { admin: proxy.adminUrl } }));
    return {
      root,
      stateRoot,
      configFile,
      runtime,
      proxy,
      admin,
      async wvo(args) {
        const result = await execa(process.execPath, [CLI_MAIN, ...args, '--config', configFile, '--json'], {
          cwd: root,
          env: { WVO_PROXY_TOKEN: PROXY_TOKEN, WVO_LOG_LEVEL: 'warn' },
          reject: false,
        });
        return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Tools both versions of server-everything serve: the load the rig's tests and the demo send. */
export const EVERYTHING_CALLS = [
  { tool: 'echo', arguments: { message: 'hello' } },
  { tool: 'get-sum', arguments: { a: 2, b: 40 } },
];
