import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HostConfig } from '../../controller/src/config/schema.js';
import { DockerRuntime } from '../../controller/src/runtime/docker/docker-runtime.js';
import { describeDocker } from '../helpers/docker.js';
import { startEngineB, type EngineB } from '../helpers/runtime-engine-b.js';
import { REPO_ROOT, buildTestImages, cleanupProject, seedState, testId, type TestImages } from '../helpers/runtime-fixtures.js';

/**
 * ssh:// and TLS engines for real: the namespace engine serves its API only over TCP with
 * --tlsverify (certificates made by openssl in the helper) and runs Debian's sshd (a generated
 * key; sessions reach the engine by `docker system dial-stdio`). Lanes start, list and stop over
 * each; bad credentials and unreachable endpoints are coded errors naming the host.
 */
const docker = new Docker();
const id = testId('rt-engines');
let images: TestImages | undefined;
let engine: EngineB | undefined;
let work: string;
const runtimes: DockerRuntime[] = [];

function runtimeFor(project: string, host: HostConfig): DockerRuntime {
  const runtime = new DockerRuntime({ project, hosts: [host], defaultHost: host.name, readyTimeoutMs: 30_000, stopTimeoutMs: 5000 });
  runtimes.push(runtime);
  return runtime;
}

const tlsHost = (name: string, files: { ca: string; cert: string; key: string }, url = engine!.url): HostConfig => ({ name, docker: url, tls: files, network: 'auto' });
const sshHost = (name: string, ssh: { identityFile: string; knownHostsFile?: string }, url = engine!.ssh!.url): HostConfig => ({ name, docker: url, ssh, network: 'auto' });

describeDocker('engines over ssh and TLS (namespace engine with sshd and --tlsverify)', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'wvo-rt-engines-'));
    const started = Date.now();
    [images, engine] = await Promise.all([buildTestImages(docker, id), startEngineB({ net: '10.214', tls: true, ssh: true })]);
    console.log(`[engines] engine with sshd + tls ready in ${engine.setupMs} ms; setup total ${Date.now() - started} ms`);
  }, 180_000);

  afterAll(async () => {
    const steps = [
      ...runtimes.map((r) => () => r.close()),
      () => engine?.destroy(),
      () => cleanupProject(docker, id),
      () => images?.remove(),
      () => work && rmSync(work, { recursive: true, force: true }),
    ];
    const errors: unknown[] = [];
    for (const step of steps) await Promise.resolve().then(step).catch((error: unknown) => errors.push(error));
    if (errors.length) throw errors[0];
  }, 120_000);

  it.each(['tls', 'ssh'] as const)('starts, lists and stops a lane over %s', async (transport) => {
    const t = engine!.tls!;
    const host = transport === 'tls' ? tlsHost('tlsb', t) : sshHost('sshb', { identityFile: engine!.ssh!.identityFile, knownHostsFile: engine!.ssh!.knownHostsFile });
    const runtime = runtimeFor(`${id}-${transport}`, host);
    const started = Date.now();
    const lane = await runtime.startLane({ name: `over-${transport}`, image: images!.worker, stateDir: await seedState(join(work, transport)), host: host.name });
    console.log(`[engines] lane over ${transport} ready in ${Date.now() - started} ms`);
    expect(lane).toMatchObject({ host: host.name, status: 'ready' });
    expect(lane.url).toMatch(new RegExp(`^http://${engine!.address.replaceAll('.', '\\.')}:\\d+$`));
    expect((await fetch(`${lane.url}/readyz`)).status).toBe(200);
    // The lane really runs on the namespace engine (seen through its own socket).
    const there = await engine!.docker.listContainers({ filters: { label: [`wvo.lane=over-${transport}`] } });
    expect(there).toHaveLength(1);
    expect((await runtime.listLanes()).map((l) => [l.name, l.host, l.status])).toEqual([[`over-${transport}`, host.name, 'ready']]);
    expect((await runtime.stopLane(`over-${transport}`)).status).toBe('stopped');
    await runtime.removeLane(`over-${transport}`);
    expect(await runtime.listLanes()).toEqual([]);
    expect(await engine!.docker.listContainers({ all: true, filters: { label: [`wvo.lane=over-${transport}`] } })).toEqual([]);
  });

  it('wrong key, wrong CA, unknown host key, unreachable: coded errors naming the host', async () => {
    const t = engine!.tls!;
    const s = engine!.ssh!;
    const failing: Array<[HostConfig, string]> = [
      [sshHost('wrong-key', { identityFile: s.wrongIdentityFile }), 'WVO_ENGINE_AUTH_FAILED'],
      [tlsHost('wrong-client', { ca: t.ca, cert: t.otherCert, key: t.otherKey }), 'WVO_ENGINE_AUTH_FAILED'],
      [tlsHost('wrong-ca', { ca: t.otherCa, cert: t.cert, key: t.key }), 'WVO_ENGINE_UNTRUSTED'],
      [sshHost('wrong-hostkey', { identityFile: s.identityFile, knownHostsFile: join(work, 'other_known_hosts') }), 'WVO_ENGINE_UNTRUSTED'],
      [sshHost('no-sshd', { identityFile: s.identityFile }, `ssh://root@${engine!.address}:2222`), 'WVO_ENGINE_UNREACHABLE'],
      [tlsHost('no-engine', t, `tcp://${engine!.address}:2999`), 'WVO_ENGINE_UNREACHABLE'],
    ];
    // A known_hosts that lists another key for this address.
    writeFileSync(join(work, 'other_known_hosts'), `${engine!.address} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKw0SGZ0Ct2ILd7XbRjlZC0t9T4MNvhvVZcCxmFm6i4P\n`);
    for (const [host, code] of failing) {
      const runtime = runtimeFor(`${id}-bad`, host);
      const error = (await runtime.ping(host.name).catch((e: unknown) => e)) as { code?: string; message?: string; subject?: string; details?: Record<string, unknown> };
      expect({ host: host.name, code: error.code }).toEqual({ host: host.name, code });
      expect(error.message).toContain(`"${host.name}"`);
      expect(error).toMatchObject({ subject: host.docker, details: { host: host.name } });
    }
    // Nothing reached the engine from any of them.
    expect(await engine!.docker.listContainers({ all: true })).toEqual([]);
  });

  it('an unreadable key file is WVO_HOST_CREDENTIAL_UNREADABLE naming its JSON path', () => {
    expect(() => runtimeFor(`${id}-bad`, sshHost('nokey', { identityFile: join(work, 'missing_key') }))).toThrow(
      expect.objectContaining({ code: 'WVO_HOST_CREDENTIAL_UNREADABLE', subject: 'hosts[0].ssh.identityFile' }),
    );
  });

  it('wvo hosts check reports each host with its transport', async () => {
    const t = engine!.tls!;
    const s = engine!.ssh!;
    writeFileSync(
      join(work, 'wvo.config.json'),
      JSON.stringify({
        projectName: `${id}-cli`,
        runtime: 'docker',
        hosts: [
          { name: 'b-tls', docker: engine!.url, tls: { ca: t.ca, cert: t.cert, key: t.key } },
          { name: 'b-ssh', docker: s.url, ssh: { identityFile: s.identityFile, knownHostsFile: s.knownHostsFile } },
          { name: 'b-bad', docker: s.url, ssh: { identityFile: s.wrongIdentityFile } },
        ],
      }),
    );
    const started = Date.now();
    const result = await execa(process.execPath, [join(REPO_ROOT, 'dist/controller/src/cli/main.js'), 'hosts', 'check', '--json'], { cwd: work, reject: false, env: { WVO_CONFIG: '' } });
    console.log(`[engines] wvo hosts check (3 remote hosts) took ${Date.now() - started} ms`);
    expect(result.exitCode, result.stderr).toBe(1);
    const hosts = (JSON.parse(result.stdout) as { hosts: Array<{ name: string; ok: boolean; transport: string; error?: { code: string } }> }).hosts;
    expect(hosts.map((h) => [h.name, h.ok, h.transport, h.error?.code])).toEqual([
      ['local', true, 'unix', undefined],
      ['b-tls', true, 'tls', undefined],
      ['b-ssh', true, 'ssh', undefined],
      ['b-bad', false, 'ssh', 'WVO_ENGINE_AUTH_FAILED'],
    ]);
  });
});
