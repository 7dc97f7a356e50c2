import { chownSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { connectMcp, type McpSession } from '../../common/src/mcp-client.js';
import { parseConfig } from '../../controller/src/config/index.js';
import { upgradeSummaryFromResult } from '../../controller/src/operations/index.js';
import { parseUpgradeOptions } from '../../controller/src/harness/options.js';
import { runUpgrade } from '../../controller/src/harness/upgrade.js';
import { DeploymentStore } from '../../controller/src/promotion/index.js';
import { DockerImageStore, dockerRuntimeFrom } from '../../controller/src/runtime/index.js';
import { makeTempWorkspace, type TempWorkspace } from '../helpers/workspace.js';
import { ProxyAdminClient } from '../../controller/src/proxy/index.js';
import { buildImages } from '../../controller/src/runtime/images/image-build.js';
import { freeLoopbackPort as freePort, until as waitUntil } from '../helpers/wait.js';
import { describeDocker } from '../helpers/docker.js';
import { REPO_ROOT, cleanupProject, seedState, testId, removeImageTag } from '../helpers/runtime-fixtures.js';

/**
 * compose/: the files themselves (compose config, Prometheus config, alert rules and their unit
 * tests, the Grafana dashboard's PromQL) and the stack brought up with docker-compose: MCP through
 * the proxy to worker-blue, the controller API, an upgrade promoted blue → green by the controller
 * container (lanes on the stack's network), a proxy restart, a rollback through the controller API.
 */

const COMPOSE_DIR = join(REPO_ROOT, 'compose');
const COMPOSE_FILE = join(COMPOSE_DIR, 'docker-compose.yml');
const REQUIRED = process.env.WVO_REQUIRE_DOCKER === '1';

async function has(cmd: string, args: string[]): Promise<boolean> {
  return (await execa(cmd, args, { reject: false })).exitCode === 0;
}

/** `docker-compose` (1.29) when present, else `docker compose` (v2). */
async function composeBinary(): Promise<[string, ...string[]] | undefined> {
  if (await has('docker-compose', ['version'])) return ['docker-compose'];
  if (await has('docker', ['compose', 'version'])) return ['docker', 'compose'];
  return undefined;
}

const compose = await composeBinary();
const promtool = (await has('promtool', ['--version'])) ? 'promtool' : undefined;
if (REQUIRED && !compose) throw new Error('WVO_REQUIRE_DOCKER=1 but neither docker-compose nor `docker compose` is installed');
if (REQUIRED && !promtool) throw new Error('WVO_REQUIRE_DOCKER=1 but promtool is not installed (apt-get install prometheus)');

/** Metric names the code registers (prom-client `name: 'wvo_…'`), histogram series included. */
function knownMetrics(): Set<string> {
  const names = new Set<string>(['up']);
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/['"](wvo_[a-z0-9_]+)['"]/g)) {
          names.add(m[1]!);
          for (const suffix of ['_bucket', '_sum', '_count']) names.add(m[1]! + suffix);
        }
      }
    }
  };
  walk(join(REPO_ROOT, 'controller/src'));
  walk(join(REPO_ROOT, 'worker/src'));
  return names;
}

/** Metrics the dashboard shows before the code exposes them (named in compose/README.md). */
const PLANNED_METRICS = new Set(['wvo_controller_shadow_diffs']);

function metricNames(expr: string): string[] {
  return [...expr.replace(/"[^"]*"/g, '""').matchAll(/\b(wvo_[a-z0-9_]+|up)\b(?!\s*\()/g)].map((m) => m[1]!);
}

describe('compose files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wvo-compose-files-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!compose)('docker-compose.yml is valid and publishes only on loopback', async () => {
    const env = { ...process.env, WVO_PROXY_TOKEN_FILE: '/dev/null', WVO_CONTROLLER_TOKEN_FILE: '/dev/null', WVO_GRAFANA_PASSWORD_FILE: '/dev/null' };
    const all = await execa(compose![0], [...compose!.slice(1), '-f', COMPOSE_FILE, '--profile', 'observability', '--profile', 'green', 'config'], { env });
    const config = YAML.parse(all.stdout) as { services: Record<string, { ports?: Array<string | { host_ip?: string }>; read_only?: boolean; user?: string; image: string }> };
    expect(Object.keys(config.services).sort()).toEqual(['controller', 'grafana', 'prometheus', 'proxy', 'worker-blue', 'worker-green']);
    for (const [name, service] of Object.entries(config.services)) {
      for (const port of service.ports ?? []) {
        // 1.29 prints "127.0.0.1:8080:8080"; v2 prints {host_ip: 127.0.0.1, ...}.
        const hostIp = typeof port === 'string' ? port.split(':')[0] : port.host_ip;
        expect(hostIp, `${name} publishes ${JSON.stringify(port)}`).toBe('127.0.0.1');
      }
    }
    for (const name of ['proxy', 'worker-blue', 'controller']) {
      expect(config.services[name]).toMatchObject({ read_only: true, user: '1000:1000' });
    }
    expect(config.services.proxy!.image).toBe('wvo-controller:latest');
    expect(config.services['worker-blue']!.image).toBe('wvo-worker:latest');
    // Without a profile only the three core services start.
    const profiles = Object.fromEntries(Object.entries(config.services).map(([name, s]) => [name, (s as { profiles?: string[] }).profiles ?? []]));
    expect(profiles).toEqual({ controller: [], proxy: [], 'worker-blue': [], 'worker-green': ['green'], prometheus: ['observability'], grafana: ['observability'] });
  });

  it.skipIf(!promtool)('alert rules pass promtool check rules and their unit tests', async () => {
    const check = await execa('promtool', ['check', 'rules', 'alert-rules.yml'], { cwd: COMPOSE_DIR, reject: false });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    const test = await execa('promtool', ['test', 'rules', 'alert-rules.test.yml'], { cwd: COMPOSE_DIR, reject: false });
    expect(test.exitCode, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toContain('SUCCESS');
  });

  it.skipIf(!promtool)('prometheus.yml passes promtool check config (paths as mounted in the container)', async () => {
    const text = readFileSync(join(COMPOSE_DIR, 'prometheus.yml'), 'utf8')
      .replaceAll('/etc/prometheus/alert-rules.yml', join(COMPOSE_DIR, 'alert-rules.yml'))
      .replaceAll('/etc/prometheus/targets/', `${join(dir, 'targets')}/`)
      .replaceAll('/run/secrets/', `${dir}/`);
    for (const secret of ['proxy_token', 'controller_token']) writeFileSync(join(dir, secret), 'x\n');
    writeFileSync(join(dir, 'prometheus.yml'), text);
    const check = await execa('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { reject: false });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    const parsed = YAML.parse(text) as { scrape_configs: Array<{ job_name: string }> };
    expect(parsed.scrape_configs.map((s) => s.job_name)).toEqual(['wvo-proxy', 'wvo-controller', 'wvo-lanes']);
  });

  it('the Grafana dashboard has the required panels on the provisioned datasource, and its PromQL parses', async () => {
    const datasource = YAML.parse(readFileSync(join(COMPOSE_DIR, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
      datasources: Array<{ uid: string; url: string }>;
    };
    const uid = datasource.datasources[0]!.uid;
    const dashboard = JSON.parse(readFileSync(join(COMPOSE_DIR, 'grafana/dashboards/wvo.json'), 'utf8')) as {
      uid: string;
      panels: Array<{ title: string; datasource: { uid: string }; targets: Array<{ expr: string }> }>;
    };
    const titles = dashboard.panels.map((p) => p.title.toLowerCase());
    for (const wanted of ['request rate per lane', 'error rate per lane', 'p95 latency per lane', 'open sessions', 'switches', 'shadow diff count']) {
      expect(titles.some((t) => t.startsWith(wanted)), `panel "${wanted}"`).toBe(true);
    }
    const known = knownMetrics();
    const exprs: string[] = [];
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid, panel.title).toBe(uid);
      for (const target of panel.targets) {
        exprs.push(target.expr);
        for (const name of metricNames(target.expr)) {
          expect(known.has(name) || PLANNED_METRICS.has(name), `${panel.title}: unknown metric ${name}`).toBe(true);
        }
      }
    }
    // The alert rules name real metrics too.
    const rules = YAML.parse(readFileSync(join(COMPOSE_DIR, 'alert-rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ expr: string }> }> };
    for (const rule of rules.groups.flatMap((g) => g.rules)) {
      for (const name of metricNames(rule.expr)) expect(known.has(name), `alert rule: unknown metric ${name}`).toBe(true);
    }
    if (!promtool) return;
    // Each panel query as a recording rule: promtool parses the PromQL (Grafana's range variables fixed).
    const asRules = {
      groups: [
        {
          name: 'dashboard',
          rules: exprs.map((expr, i) => ({
            record: `dashboard:query_${i}`,
            expr: expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h').replaceAll('$lane', '.*'),
          })),
        },
      ],
    };
    writeFileSync(join(dir, 'dashboard-rules.yml'), YAML.stringify(asRules));
    const check = await execa('promtool', ['check', 'rules', join(dir, 'dashboard-rules.yml')], { reject: false });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
  });
});

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => waitUntil(what, probe, timeoutMs, 500);

/** Requests the proxy counted per lane (wvo_proxy_requests_total summed over codes). */
function requestsByLane(metrics: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics.matchAll(/^wvo_proxy_requests_total\{([^}]*)\} (\S+)$/gm)) {
    const lane = /lane="([^"]*)"/.exec(m[1]!)?.[1] ?? '';
    out[lane] = (out[lane] ?? 0) + Number(m[2]);
  }
  return out;
}

const docker = new Docker();
const project = testId('wvocmp');

const describeStack: typeof describe = compose ? describeDocker : (describe.skip as typeof describe);

describeStack('compose stack (docker-compose up)', () => {
  let work: string;
  let env: NodeJS.ProcessEnv;
  let ports: { proxy: number; admin: number; controller: number };
  let tokens: { proxy: string; controller: string };
  let admin: ProxyAdminClient;
  const images = { worker: `wvo-worker:${project}`, controller: `wvo-controller:${project}` };
  const sessions: McpSession[] = [];
  let controllerState: string;
  let state: string;
  let workspace: TempWorkspace | undefined;
  const stagedIds: string[] = [];
  let deploymentId: string | undefined;

  const dc = (args: string[], options: { reject?: boolean; timeout?: number } = {}) =>
    execa(compose![0], [...compose!.slice(1), '-p', project, '-f', COMPOSE_FILE, ...args], {
      env,
      reject: options.reject ?? true,
      timeout: options.timeout ?? 120_000,
    });

  const controller = async (method: string, path: string, body?: unknown, token: string | null = tokens.controller) => {
    const response = await fetch(`http://127.0.0.1:${ports.controller}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
  };

  const containerOf = async (service: string) => {
    const [c] = await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${service}`] } });
    if (!c) throw new Error(`no container for ${service}`);
    return docker.getContainer(c.Id);
  };

  const healthy = (service: string, timeoutMs = 60_000) =>
    until(`${service} healthy`, async () => ((await (await containerOf(service)).inspect()).State.Health?.Status === 'healthy' ? true : undefined), timeoutMs);

  const open = async (name: string) => {
    const session = await connectMcp(`http://127.0.0.1:${ports.proxy}`, name);
    sessions.push(session);
    return session;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'wvo-compose-'));
    chmodSync(work, 0o755);
    // The project's own builder, once: both images from this tree's dist/ under tags unique to this file.
    await buildImages(docker, {
      root: REPO_ROOT,
      tag: project,
      nodeImage: 'node:20-bookworm-slim',
      pull: false,
      baseImage: 'wvo-node-base',
      repositories: { worker: 'wvo-worker', controller: 'wvo-controller' },
    });
    state = await seedState(join(work, 'blue-state'), 40);
    for (const entry of ['', ...readdirSync(state)]) chownSync(join(state, entry), 1000, 1000);
    // The controller's state on a host directory too, so this test can stage an upgrade in controller.db.
    controllerState = join(work, 'controller-state');
    mkdirSync(controllerState);
    chownSync(controllerState, 1000, 1000);
    tokens = { proxy: `proxy-${testId('t')}-secret`, controller: `ctl-${testId('t')}-secret` };
    writeFileSync(join(work, 'proxy_token'), `${tokens.proxy}\n`, { mode: 0o644 });
    writeFileSync(join(work, 'controller_token'), `${tokens.controller}\n`, { mode: 0o644 });
    writeFileSync(join(work, 'grafana_password'), 'unused\n', { mode: 0o644 });
    ports = { proxy: await freePort(), admin: await freePort(), controller: await freePort() };
    const vars: Record<string, string> = {
      WVO_PROJECT: project,
      WVO_WORKER_IMAGE: images.worker,
      WVO_GREEN_IMAGE: images.worker,
      WVO_CONTROLLER_IMAGE: images.controller,
      WVO_BLUE_STATE: state,
      WVO_GREEN_STATE: state,
      WVO_CONTROLLER_STATE: controllerState,
      WVO_BLUE_BUILD_ID: 'blue-build',
      WVO_GREEN_BUILD_ID: 'green-build',
      WVO_PROXY_PORT: String(ports.proxy),
      WVO_PROXY_ADMIN_PORT: String(ports.admin),
      WVO_CONTROLLER_PORT: String(ports.controller),
      WVO_PROXY_TOKEN_FILE: join(work, 'proxy_token'),
      WVO_CONTROLLER_TOKEN_FILE: join(work, 'controller_token'),
      WVO_GRAFANA_PASSWORD_FILE: join(work, 'grafana_password'),
      WVO_DRAIN_TIMEOUT: '30s',
      DOCKER_GID: String((await execa('stat', ['-c', '%g', '/var/run/docker.sock'])).stdout.trim()),
    };
    // The same settings as an env file, as an operator would keep them (compose/README.md).
    writeFileSync(join(work, '.env'), Object.entries(vars).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    env = { ...process.env, ...vars };
    await dc(['--env-file', join(work, '.env'), 'up', '-d', '--no-build']);
    admin = new ProxyAdminClient({ url: `http://127.0.0.1:${ports.admin}`, token: tokens.proxy });
    await until('proxy → blue healthy', async () => ((await admin.lanes()).lanes.find((l) => l.name === 'blue')?.healthy ? true : undefined));
    await until('controller /healthz', async () => ((await controller('GET', '/healthz', undefined, null)).status === 200 ? true : undefined)).catch(async (error: Error) => {
      const logs = await dc(['logs', '--no-color', '--tail', '30', 'controller'], { reject: false });
      throw new Error(`${error.message}\ncontroller logs:\n${logs.stdout}${logs.stderr}`);
    });
  }, 300_000);

  afterAll(async () => {
    for (const session of sessions) await session.close().catch(() => undefined);
    await admin?.close().catch(() => undefined);
    // Lanes the controller started first (they hold the stack's network), then the stack.
    await cleanupProject(docker, project);
    if (env) {
      const down = await dc(['--profile', 'green', '--profile', 'observability', 'down', '-v', '--remove-orphans', '--timeout', '5'], { reject: false });
      if (down.exitCode !== 0) console.warn(`compose down: ${down.stderr}`);
    }
    // Whatever compose left (or the controller started) under this project's labels.
    await cleanupProject(docker, project);
    for (const c of await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project}`] } })) {
      await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
    for (const v of (await docker.listVolumes({ filters: { label: [`com.docker.compose.project=${project}`] } })).Volumes ?? []) {
      await docker.getVolume(v.Name).remove().catch(() => undefined);
    }
    for (const n of await docker.listNetworks({ filters: { label: [`com.docker.compose.project=${project}`] } })) {
      await docker.getNetwork(n.Id).remove().catch(() => undefined);
    }
    for (const image of Object.values(images)) await removeImageTag(docker, image);
    await cleanupProject(docker, `${project}-h`);
    for (const id of stagedIds) {
      for (const tag of [`wvo-worker:${id}`, `wvo-worker:${id}-baseline`]) await removeImageTag(docker, tag);
    }
    workspace?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it('serves MCP through the proxy to worker-blue (official SDK client, seeded state)', async () => {
    const mcp = await open('compose-blue');
    expect(mcp.sessionId).toBeTruthy();
    const status = await mcp.call('orchestrator_status', {});
    expect(status.isError).toBe(false);
    expect((status.value as { queue: { total: number } }).queue.total).toBe(40);
    const plan = await mcp.call('plan_next', {});
    expect(plan.isError).toBe(false);
    const lanes = await admin.lanes();
    expect(lanes).toMatchObject({ active: 'blue' });
    expect(lanes.lanes.find((l) => l.name === 'blue')).toMatchObject({ url: 'http://worker-blue:8080', healthy: true, sessions: 1 });
    expect(requestsByLane(await admin.metrics()).blue).toBeGreaterThan(0);
  });

  it('runs the lanes hardened: read-only root, non-root, tmpfs /tmp, healthcheck, nothing published but loopback', async () => {
    await healthy('worker-blue');
    const worker = await (await containerOf('worker-blue')).inspect();
    expect(worker.HostConfig.ReadonlyRootfs).toBe(true);
    expect(worker.Config.User).toBe('1000:1000');
    expect(worker.HostConfig.Tmpfs).toHaveProperty('/tmp');
    expect(worker.State.Health?.Status).toBe('healthy');
    expect(worker.HostConfig.PortBindings ?? {}).toEqual({});
    expect(worker.Config.Labels).toMatchObject({ 'wvo.project': project, 'wvo.lane': 'blue', 'wvo.managed': '1', 'wvo.image': images.worker });
    for (const service of ['proxy', 'controller']) {
      const info = await (await containerOf(service)).inspect();
      expect(info.HostConfig.ReadonlyRootfs).toBe(true);
      for (const bindings of Object.values(info.HostConfig.PortBindings ?? {})) {
        for (const b of bindings as Array<{ HostIp: string }>) expect(b.HostIp).toBe('127.0.0.1');
      }
    }
    await healthy('proxy');
    await healthy('controller');
  });

  it('the controller API answers /healthz, refuses calls without the token, and lists the compose lane', async () => {
    expect((await controller('GET', '/healthz', undefined, null)).status).toBe(200);
    expect((await controller('GET', '/lanes', undefined, null)).status).toBe(401);
    expect((await controller('GET', '/lanes', undefined, 'wrong-token')).status).toBe(401);
    const lanes = await controller('GET', '/lanes');
    expect(lanes.status).toBe(200);
    expect(lanes.body).toMatchObject({ runtime: 'docker' });
    // The runtime lists worker-blue (labelled as a lane) and not the proxy or itself.
    expect((lanes.body.lanes as Array<{ name: string }>).map((l) => l.name)).toEqual(['blue']);
    const metrics = await fetch(`http://127.0.0.1:${ports.controller}/metrics`, { headers: { authorization: `Bearer ${tokens.controller}` } });
    expect(await metrics.text()).toContain('wvo_controller_api_requests_total');
    // With nothing staged, promote is refused with a code and nothing starts.
    const promote = await controller('POST', '/deployments/latest/promote', {});
    expect(promote.status).toBeGreaterThanOrEqual(400);
    expect(promote.body.error.code).toBe('WVO_NO_STAGED_UPGRADE');
    expect((await controller('GET', '/deployments')).body).toMatchObject({ running: null });
  });

  /** Until the deployment is in one of `states` and its last step's effects are done (`settling` false). */
  const waitDeployment = (id: string, states: string[], timeoutMs = 120_000) =>
    until(`deployment ${id} in ${states.join('|')}, settled`, async () => {
      const { body } = await controller('GET', `/deployments/${id}`);
      const state = body.deployment?.state as string | undefined;
      if (state && states.includes(state) && body.deployment.settling === false) return body;
      if (state === 'rolled_back') throw new Error(`deployment ${id} rolled back: ${JSON.stringify(body.transitions?.slice(-3))}`);
      return undefined;
    }, timeoutMs);

  // The next three build on each other (one stack, one deployment): a retry of one alone cannot pass.
  it('promotes an upgrade blue → green through the controller container: its runtime starts green on the stack network, the proxy switches; old session kept, new sessions on green', { retry: 0, timeout: 420_000 }, async () => {
    const before = await open('before-promote');
    expect((await before.call('plan_next', {})).isError).toBe(false);
    // A real `wvo upgrade` of a green change against the stack's live state, run by an operator on
    // the host with the same engine: staged image, three DRY_RUN shadow lanes on a snapshot of
    // blue's state (in a project of their own), schema-compat; recorded in the stack controller's
    // controller.db (the host directory compose mounts), which then promotes it.
    const hostProject = `${project}-h`;
    const hostConfig = parseConfig({ projectName: hostProject, images: { pull: false } });
    const hostRuntime = dockerRuntimeFrom(hostConfig);
    workspace?.cleanup(); // a rerun of this test must not leak the previous one's copy
    workspace = await makeTempWorkspace('wvo-compose-ws-');
    const planNext = join(workspace.dir, 'worker/src/tools/plan-next.ts');
    writeFileSync(planNext, readFileSync(planNext, 'utf8').replace('(task) => ({\n      id: task.id,', '(task, index) => ({\n      rank: index + 1,\n      id: task.id,'));
    const result = await runUpgrade(
      parseUpgradeOptions({ workspace: workspace.dir, allowDirty: true, baseline: images.worker, testCommand: ['npx', 'vitest', 'run', 'test/unit/worker-logic.test.ts'] }),
      { projectRoot: workspace.dir, stateRoot: state, runtime: hostRuntime, images: new DockerImageStore(hostRuntime, hostConfig.images) },
    ).finally(() => hostRuntime.close());
    stagedIds.push(result.id);
    expect(result.error, JSON.stringify(result.steps.map((step) => [step.name, step.status]))).toBeUndefined();
    expect(result.outcome).toBe('warnings'); // plan_next gained a rank: reported by the shadow diff
    expect(result.steps.find((step) => step.name === 'test')?.status).toBe('ok');
    const upgrade = upgradeSummaryFromResult(result, { baseline: 'blue', candidate: 'green' });
    expect(upgrade.candidate.image).toBe(`wvo-worker:${result.id}`);
    const store = DeploymentStore.open(controllerState);
    try {
      store.recordUpgrade(upgrade, Date.now());
    } finally {
      store.close();
    }
    for (const entry of readdirSync(controllerState)) chownSync(join(controllerState, entry), 1000, 1000);
    // The harness wrote the summary the live worker reads (root-owned): keep it readable for uid 1000.
    for (const entry of ['analytics', 'analytics/upgrade_shadow.json']) chownSync(join(state, entry), 1000, 1000);

    const promote = await controller('POST', `/deployments/${upgrade.id}/promote`, { observeMs: '2s', intervalMs: '500ms', maxFailedChecks: 20, keepWarmMs: 0 });
    expect(promote.status, JSON.stringify(promote.body)).toBeLessThan(300);
    deploymentId = promote.body.deployment.id as string;
    const done = await waitDeployment(deploymentId, ['promoted']);
    expect(done.deployment.state).toBe('promoted');

    // The proxy in the stack routes to the lane the controller container started, by container name.
    const view = await admin.lanes();
    expect(view.active).toBe('green');
    expect(view.lanes.find((l) => l.name === 'green')).toMatchObject({ url: `http://${project}-lane-green:8080`, healthy: true });
    const green = await docker.getContainer(`${project}-lane-green`).inspect();
    expect(Object.keys(green.NetworkSettings.Networks)).toEqual([`${project}-net`]);
    expect(green.HostConfig.PortBindings ?? {}).toEqual({});
    expect(green.Config.Labels).toMatchObject({ 'wvo.project': project, 'wvo.lane': 'green', 'wvo.deployment': deploymentId });

    const greenBefore = requestsByLane(await admin.metrics()).green ?? 0;
    const after = await open('after-promote');
    for (let i = 0; i < 3; i++) expect((await after.call('orchestrator_status', {})).isError).toBe(false);
    expect(requestsByLane(await admin.metrics()).green! - greenBefore).toBeGreaterThanOrEqual(4); // initialize + initialized + 3 calls
    // The session opened before the switch still answers (blue was stopped after promotion: it moved).
    expect((await before.call('plan_next', {})).isError).toBe(false);
    const lanes = await controller('GET', '/lanes');
    const byName = Object.fromEntries((lanes.body.lanes as Array<{ name: string; status: string }>).map((l) => [l.name, l.status]));
    expect(byName).toMatchObject({ green: 'ready', blue: 'stopped' });
  });

  it('a restarted proxy container keeps its active lane (route table on its volume)', { retry: 0 }, async () => {
    expect(deploymentId).toBeDefined();
    await dc(['restart', '--timeout', '5', 'proxy']);
    await until('proxy back, green healthy', async () => ((await admin.lanes()).lanes.find((l) => l.name === 'green')?.healthy ? true : undefined), 30_000);
    expect((await admin.lanes()).active).toBe('green');
    const fresh = await open('after-restart');
    expect((await fresh.call('orchestrator_status', {})).isError).toBe(false);
    expect(existsSync(join(work, '.env'))).toBe(true);
  });

  it('rolls back through the controller API: blue is restarted on the same state and takes the traffic again', { retry: 0, timeout: 180_000 }, async () => {
    expect(deploymentId).toBeDefined();
    const kept = await open('before-rollback');
    expect((await kept.call('orchestrator_status', {})).isError).toBe(false);
    const rollback = await controller('POST', `/deployments/${deploymentId}/rollback`, { reason: 'compose test' });
    expect(rollback.status, JSON.stringify(rollback.body)).toBeLessThan(300);
    await until('rolled back', async () => ((await controller('GET', `/deployments/${deploymentId}`)).body.deployment?.state === 'rolled_back' ? true : undefined), 120_000);
    const view = await admin.lanes();
    expect(view.active).toBe('blue');
    expect(view.lanes.find((l) => l.name === 'blue')).toMatchObject({ healthy: true });
    const blueBefore = requestsByLane(await admin.metrics()).blue ?? 0;
    const fresh = await open('after-rollback');
    const status = await fresh.call('orchestrator_status', {});
    expect(status.isError).toBe(false);
    expect((status.value as { queue: { total: number } }).queue.total).toBe(40);
    expect(requestsByLane(await admin.metrics()).blue! - blueBefore).toBeGreaterThanOrEqual(3);
    // The session opened on green keeps answering (moved to blue at once on rollback).
    expect((await kept.call('orchestrator_status', {})).isError).toBe(false);
  });
});
