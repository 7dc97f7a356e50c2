import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { systemClock } from '../../common/src/clock.js';
import { parseConfig, type WvoConfig } from '../../controller/src/config/index.js';
import { FleetControl, type FleetContextInput } from '../../controller/src/fleet/index.js';
import { progressLogger } from '../../controller/src/operations/index.js';
import { DeploymentStore } from '../../controller/src/promotion/index.js';
import type { ProxyAdminClient, RunningProxy } from '../../controller/src/proxy/index.js';
import { DockerRuntime, SwarmRuntime, type LaneRuntime } from '../../controller/src/runtime/index.js';
import { seedState } from '../../worker/src/index.js';
import { PROXY_TOKEN, startBlueProxy } from './blue-proxy.js';
import { chownTree } from './deploy-rig.js';
import type { EngineB, SwarmPair } from './runtime-engine-b.js';
import { cleanupProject } from './runtime-fixtures.js';

/**
 * A fleet of real orchestrators on two engines (the host engine and a namespace engine, ENGINE.md)
 * or on the two nodes of a real swarm (`swarmPlacement`):
 * each deployment has its own seeded live state, its own `blue` lane (DRY_RUN=0) on its own
 * engine, its own proxy in front, and its own token file; the fleet controller's state root holds
 * the staged (representative) upgrade. `configFile` is the same fleet for `wvo` processes.
 */
export interface FleetMemberRig {
  name: string;
  /** Its host (runtime docker) or node label (runtime swarm). */
  host: string;
  app: string;
  state: string;
  runtime: LaneRuntime;
  proxy: RunningProxy;
  admin: ProxyAdminClient;
}

export interface FleetRig {
  root: string;
  stateRoot: string;
  config: WvoConfig;
  configFile: string;
  members: FleetMemberRig[];
  /** Record the representative upgrade (tests, schema-compat ok) in the fleet controller's controller.db. */
  stage(candidateImage: string): string;
  control(overrides?: Partial<FleetContextInput>): FleetControl;
  close(): Promise<void>;
}

/**
 * Where a fleet's deployments run: the config fragment (runtime, hosts, swarm), each deployment's
 * place (`host` or `node`), its lanes' runtime, and how to remove everything it left there.
 */
export interface FleetPlacement {
  config: Record<string, unknown>;
  place(index: number): { field: 'host' | 'node'; where: string };
  runtime(app: string, where: string): LaneRuntime;
  cleanup(app: string, where: string, runtime: LaneRuntime): Promise<void>;
}

const LANES = { readyTimeoutMs: 60_000, stopTimeoutMs: 5_000 };

/** Deployments alternate between the host engine and the namespace engine: `east` (local), `west` (hostb), then d3, d4… */
export function enginesPlacement(docker: Docker, engine: EngineB): FleetPlacement {
  const hosts = [{ name: 'hostb', docker: engine.url, network: 'auto' as const, state: 'bind' as const }];
  return {
    config: { runtime: 'docker', hosts },
    place: (index) => ({ field: 'host', where: index % 2 === 0 ? 'local' : 'hostb' }),
    runtime: (app, where) => new DockerRuntime({ project: app, hosts, defaultHost: where, ...LANES }),
    cleanup: (app, where) => cleanupProject(where === 'local' ? docker : engine.docker, app),
  };
}

/**
 * Deployments on a real two-node swarm (runtime-engine-b.ts): `east` on the manager node, `west` on
 * the worker node, placed by node label; each keeps its live state in `<app>-live-state` on its node.
 */
export function swarmPlacement(pair: SwarmPair): FleetPlacement {
  const hosts = [
    { name: 'mgr', docker: pair.manager.url, network: 'auto' as const },
    { name: 'wkr', docker: pair.worker.url, network: 'auto' as const },
  ];
  const nodes = [
    { label: pair.labels.manager, host: 'mgr', engine: pair.manager },
    { label: pair.labels.worker, host: 'wkr', engine: pair.worker },
  ];
  const swarm = { manager: 'mgr', nodes: nodes.map(({ label, host }) => ({ label, host })) };
  return {
    config: { runtime: 'swarm', hosts, swarm },
    place: (index) => ({ field: 'node', where: nodes[index % 2]!.label }),
    runtime: (app, where) => new SwarmRuntime({ project: app, hosts, ...swarm, defaultNode: where, ...LANES }),
    async cleanup(app, where, runtime) {
      for (const lane of await runtime.listLanes().catch(() => [])) await runtime.removeLane(lane.name).catch(() => undefined);
      const engine = nodes.find((n) => n.label === where)!.engine;
      await cleanupProject(engine.docker, app);
      for (const v of (await engine.docker.listVolumes({ filters: { label: [`wvo.project=${app}`] } }).catch(() => ({ Volumes: [] }))).Volumes ?? []) {
        await engine.docker.getVolume(v.Name).remove().catch(() => undefined);
      }
    },
  };
}

export async function startFleetRig(options: { id: string; docker: Docker; engine?: EngineB; placement?: FleetPlacement; image: string; waves?: Record<string, unknown>; deployments?: number; tasks?: number }): Promise<FleetRig> {
  const placement = options.placement ?? enginesPlacement(options.docker, options.engine!);
  const root = mkdtempSync(join(tmpdir(), 'wvo-fleet-test-'));
  const stateRoot = join(root, 'state');
  const cleanups: Array<() => Promise<unknown> | unknown> = [() => rmSync(root, { recursive: true, force: true })];
  const close = async () => {
    for (const fn of cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => undefined);
  };
  const lanes = LANES;
  try {
    const members = await Promise.all(
      Array.from({ length: options.deployments ?? 2 }, (_, index) => index).map(async (index): Promise<FleetMemberRig> => {
        const host = placement.place(index).where;
        const name = index === 0 ? 'east' : index === 1 ? 'west' : `d${index + 1}`;
        const app = `${options.id}-${name}`;
        const state = join(root, 'fleet', name);
        await seedState({ stateRoot: state, tasks: options.tasks ?? 200, seed: 7 + index });
        chownTree(state);
        const runtime = placement.runtime(app, host);
        cleanups.push(() => runtime.close());
        cleanups.push(() => placement.cleanup(app, host, runtime));
        const blue = await runtime.startLane({ name: 'blue', image: options.image, stateDir: state, dryRun: false, role: 'live' });
        const { proxy, admin } = await startBlueProxy({ statePath: join(root, `${name}-routes.json`), blueUrl: blue.url!, cleanups });
        writeFileSync(join(root, `${name}.token`), PROXY_TOKEN);
        return { name, host, app, state, runtime, proxy, admin };
      }),
    );
    const input = {
      projectName: options.id,
      ...placement.config,
      stateRoot: './state',
      lanes,
      fleet: {
        deployments: members.map((m, index) => ({ name: m.name, [placement.place(index).field]: m.host, app: m.app, state: `./fleet/${m.name}`, proxy: { admin: m.proxy.adminUrl, tokenFile: `./${m.name}.token` } })),
        waves: options.waves ?? { size: 1 },
      },
    };
    const configFile = join(root, 'wvo.config.json');
    writeFileSync(configFile, JSON.stringify(input, null, 2));
    const config = parseConfig(input);
    mkdirSync(stateRoot, { recursive: true });
    let n = 0;
    return {
      root,
      stateRoot,
      config,
      configFile,
      members,
      stage(candidateImage) {
        const store = DeploymentStore.open(stateRoot);
        const id = `up-fleet-${++n}`;
        store.recordUpgrade(
          {
            id,
            outcome: 'passed',
            steps: ['preflight', 'build', 'test', 'snapshot', 'shadow', 'schema-compat', 'summary'].map((step) => ({ name: step, status: 'ok' })),
            baseline: { lane: 'blue', image: options.image },
            candidate: { lane: 'green', image: candidateImage },
          },
          Date.now(),
        );
        store.close();
        return id;
      },
      control(overrides = {}) {
        const control = new FleetControl({
          config,
          projectRoot: root,
          stateRoot,
          clock: systemClock,
          // FLEET_TEST_LOG=1 prints the runner's and each deployment's progress lines.
          ...(process.env.FLEET_TEST_LOG ? { logger: progressLogger('[fleet]', (line) => console.error(`${new Date().toISOString().slice(11, 23)} ${line}`)) } : {}),
          ...overrides,
        });
        cleanups.push(() => control.close());
        return control;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
