import { chownSync, chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectMcp } from '../../common/src/mcp-client.js';
import { DockerRuntime } from '../../controller/src/runtime/docker/docker-runtime.js';
import { describeDocker } from '../helpers/docker.js';
import { REPO_ROOT, buildTestImages, cleanupProject, copyTree, hashTree, seedState, testId, type TestImages, removeImageTag } from '../helpers/runtime-fixtures.js';

process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

const docker = new Docker();
const project = testId('rt-docker');
let images: TestImages;
let runtime: DockerRuntime;
let work: string;

describeDocker('docker runtime', () => {
  beforeAll(async () => {
    images = await buildTestImages(docker, project);
    runtime = new DockerRuntime({ project, readyTimeoutMs: 20_000, stopTimeoutMs: 10_000 });
    work = mkdtempSync(join(tmpdir(), 'wvo-rt-docker-'));
  });

  afterAll(async () => {
    await cleanupProject(docker, project);
    await images?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the worker image, started by testcontainers with an HTTP wait on /readyz, answers MCP tool calls', async () => {
    const state = await seedState(join(work, 'tc'));
    chownSync(state, 1000, 1000);
    chownSync(join(state, 'orchestrator.db'), 1000, 1000);
    let container: StartedTestContainer | undefined;
    try {
      container = await new GenericContainer(images.worker)
        .withLabels({ 'wvo.managed': '1', 'wvo.project': project })
        .withExposedPorts(8080)
        .withBindMounts([{ source: state, target: '/state', mode: 'rw' }])
        .withTmpFs({ '/tmp': 'rw' })
        .withWaitStrategy(Wait.forHttp('/readyz', 8080).forStatusCode(200))
        .withStartupTimeout(30_000)
        .start();
      const mcp = await connectMcp(`http://${container.getHost()}:${container.getMappedPort(8080)}`, 'runtime-test');
      try {
        const plan = await mcp.call('plan_next', {});
        expect(plan.isError).toBe(false);
        const status = await mcp.call('orchestrator_status', {});
        expect(status.isError).toBe(false);
        expect(JSON.stringify(status.value)).toContain('queue');
      } finally {
        await mcp.close();
      }
      const inspect = await docker.getImage(images.worker).inspect();
      expect(inspect.Config.User).toBe('1000:1000');
      expect(inspect.Config.Healthcheck?.Test?.join(' ')).toContain('/readyz');
      expect(inspect.Config.Labels).toMatchObject({ 'wvo.version': expect.any(String), 'org.opencontainers.image.title': 'wvo-worker' });
    } finally {
      await container?.stop({ remove: true });
    }
  });

  it('a live lane changes its state; a DRY_RUN shadow lane leaves its copy byte-identical', async () => {
    const template = await seedState(join(work, 'template'));
    const live = copyTree(template, join(work, 'live'));
    const shadow = copyTree(template, join(work, 'shadow'));
    const before = hashTree(template);
    const started = await Promise.allSettled([
      runtime.startLane({ name: 'live', image: images.worker, stateDir: live, role: 'live', deploymentId: 'dep-7' }),
      runtime.startLane({ name: 'shadow', image: images.worker, stateDir: shadow, role: 'shadow-candidate', deploymentId: 'dep-7' }),
    ]);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all([runtime.removeLane('live'), runtime.removeLane('shadow')]);
      throw failed.reason;
    }
    const [liveLane, shadowLane] = started.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof runtime.startLane>>>).value) as [
      Awaited<ReturnType<typeof runtime.startLane>>,
      Awaited<ReturnType<typeof runtime.startLane>>,
    ];
    expect(shadowLane).toMatchObject({ dryRun: true, role: 'shadow-candidate' });
    for (const lane of [liveLane, shadowLane]) {
      const mcp = await connectMcp(lane.url!, 'runtime-test');
      try {
        for (let i = 0; i < 3; i++) expect((await mcp.call('dispatch', { agent: 'tester' })).isError).toBe(false);
      } finally {
        await mcp.close();
      }
    }
    const container = await docker.getContainer(liveLane.id).inspect();
    expect(container.HostConfig.ReadonlyRootfs).toBe(true);
    expect(container.Config.User).not.toMatch(/^(0|root)?(:|$)/);
    expect(container.HostConfig.Tmpfs).toHaveProperty('/tmp');
    expect(container.Config.Labels).toMatchObject({ 'wvo.lane': 'live', 'wvo.role': 'live', 'wvo.deployment': 'dep-7', 'wvo.managed': '1' });
    expect(container.Config.Env).toContain('WVO_DRY_RUN=0');
    expect((await docker.getContainer(shadowLane.id).inspect()).Config.Env).toContain('WVO_DRY_RUN=1');
    // Stop both (SIGTERM: the worker checkpoints its WAL) before comparing bytes.
    await Promise.all([runtime.removeLane('live'), runtime.removeLane('shadow')]);
    expect(hashTree(shadow)).toEqual(before);
    expect(hashTree(live)).not.toEqual(before);
  });

  it('refuses a state dir its non-root user cannot write', async () => {
    const dir = join(work, 'locked');
    mkdirSync(dir);
    chownSync(dir, 4242, 4242);
    chmodSync(dir, 0o500);
    await expect(runtime.startLane({ name: 'locked', image: images.worker, stateDir: dir })).rejects.toMatchObject({ code: 'WVO_STATE_DIR_NOT_WRITABLE', subject: dir });
    expect(await runtime.listLanes()).toEqual([]);
  });

  it('an unreachable engine names the endpoint it tried; a malformed host URL is refused', async () => {
    const far = new DockerRuntime({ project, hosts: [{ name: 'far', docker: 'tcp://127.0.0.1:1', network: 'auto' }], defaultHost: 'far' });
    const error = await far.startLane({ name: 'x', image: images.worker, stateDir: work }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WVO_ENGINE_UNREACHABLE', subject: 'tcp://127.0.0.1:1' });
    expect(() => new DockerRuntime({ project, hosts: [{ name: 'bad', docker: 'tcp//nohost', network: 'auto' }] })).toThrow(
      expect.objectContaining({ code: 'WVO_HOST_URL_INVALID', subject: 'hosts[0].docker' }),
    );
    await expect(runtime.startLane({ name: 'x', image: images.worker, stateDir: work, host: 'nowhere' })).rejects.toMatchObject({ code: 'WVO_HOST_UNKNOWN' });
  });

  it('a remote host without the image whose transfer fails: WVO_TRANSFER_FAILED, nothing started', async () => {
    const withDead = new DockerRuntime({ project, hosts: [{ name: 'dead', docker: 'tcp://127.0.0.1:1', network: 'host' }] });
    await expect(withDead.transferImage(images.worker, 'dead')).rejects.toMatchObject({ code: 'WVO_TRANSFER_FAILED', subject: 'tcp://127.0.0.1:1' });
    await expect(withDead.transferImage('wvo-no-such-image:0', 'dead')).rejects.toMatchObject({ code: 'WVO_TRANSFER_FAILED' });
    expect(await runtime.listLanes()).toEqual([]);
  });

  it('startLane on a remote host whose image load fails: WVO_TRANSFER_FAILED, no container created', async () => {
    // A small real Docker API: answers pings and lookups, refuses the image load (a full disk).
    const requests: string[] = [];
    const engine = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      req.resume();
      const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url?.startsWith('/_ping')) return res.writeHead(200).end('OK');
      if (req.url?.startsWith('/containers/json')) return json(200, []);
      if (req.url?.startsWith('/images/load')) return req.on('end', () => json(500, { message: 'write /var/lib/docker/tmp: no space left on device' }));
      if (req.url?.startsWith('/images/')) return json(404, { message: 'No such image' });
      json(500, { message: `unexpected ${req.method} ${req.url}` });
    });
    await new Promise<void>((resolve) => engine.listen(0, '127.0.0.1', resolve));
    const url = `tcp://127.0.0.1:${(engine.address() as AddressInfo).port}`;
    try {
      const remote = new DockerRuntime({ project, hosts: [{ name: 'full', docker: url, network: 'host' }] });
      const error = await remote.startLane({ name: 'far', image: images.worker, stateDir: work, host: 'full' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'WVO_TRANSFER_FAILED', subject: url });
      expect((error as Error).message).toContain('no space left on device');
      expect(requests.some((r) => r.startsWith('POST /images/load'))).toBe(true);
      expect(requests.some((r) => r.includes('/containers/create'))).toBe(false);
      expect(await runtime.listLanes()).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => engine.close(() => resolve()));
    }
  });

  it('wvo lane start / wvo lanes / wvo lane stop work from the CLI', async () => {
    const cli = (...args: string[]) =>
      execa(process.execPath, [join(REPO_ROOT, 'dist/controller/src/cli/main.js'), ...args], {
        env: { WVO_PROJECT: project, WVO_RUNTIME: 'docker', WVO_CONFIG: '' },
        cwd: work,
        reject: false,
      });
    const state = await seedState(join(work, 'cli'));
    const started = await cli('lane', 'start', '--name', 'cli', '--image', images.worker, '--state', state, '--json');
    expect(started.exitCode, started.stderr).toBe(0);
    expect(JSON.parse(started.stdout)).toMatchObject({ ok: true, runtime: 'docker', lane: { name: 'cli', status: 'ready' } });
    const listed = JSON.parse((await cli('lanes', '--json')).stdout) as { lanes: Array<{ name: string }> };
    expect(listed.lanes.map((l) => l.name)).toEqual(['cli']);
    const taken = await cli('lane', 'start', '--name', 'cli', '--image', images.worker, '--state', state);
    expect(taken.exitCode).toBe(2);
    expect(taken.stderr).toContain('WVO_LANE_NAME_TAKEN');
    expect((await cli('lane', 'logs', 'cli')).stdout).toContain('listening');
    expect((await cli('lane', 'stop', 'cli', '--remove')).exitCode).toBe(0);
    expect(JSON.parse((await cli('lanes', '--json')).stdout).lanes).toEqual([]);
    const missing = await cli('lane', 'start', '--name', 'm', '--image', images.worker, '--state', join(work, 'absent'), '--json');
    expect(missing.exitCode).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, error: { code: 'WVO_STATE_DIR_MISSING' } });
  });

  it('wvo images build --only worker builds through the API, with version labels, and reuses layers', async () => {
    const tag = `${project}-cli`;
    const build = () =>
      execa(process.execPath, [join(REPO_ROOT, 'dist/controller/src/cli/main.js'), 'images', 'build', '--only', 'worker', '--root', images.fakeTree, '--tag', tag, '--no-pull', '--json'], {
        cwd: work,
        reject: false,
        env: { WVO_CONFIG: '' },
      });
    try {
      const first = await build();
      expect(first.exitCode, first.stderr).toBe(0);
      const result = JSON.parse(first.stdout) as { nodeImage: { source: string }; images: Array<{ tag: string; id: string }> };
      expect(result.images.map((i) => i.tag)).toEqual([`wvo-worker:${tag}`]);
      const labels = (await docker.getImage(`wvo-worker:${tag}`).inspect()).Config.Labels;
      expect(labels).toMatchObject({ 'wvo.version': '0.0.1', 'org.opencontainers.image.version': '0.0.1', 'wvo.image-kind': 'worker' });
      const again = JSON.parse((await build()).stdout) as { images: Array<{ id: string; cachedSteps: number; steps: number }> };
      expect(again.images[0]!.id).toBe(result.images[0]!.id);
      // Every step but the leading ARG and FROM (which print no cache line) came from the cache.
      expect(again.images[0]!.cachedSteps).toBe(again.images[0]!.steps - 2);
    } finally {
      await removeImageTag(docker, `wvo-worker:${tag}`);
    }
  });
});
