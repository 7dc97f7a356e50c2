import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HostConfig } from '../../controller/src/config/schema.js';
import { connectMcp } from '../../common/src/mcp-client.js';
import { DockerRuntime } from '../../controller/src/runtime/docker/docker-runtime.js';
import { fetchRemoteStateFile } from '../../controller/src/runtime/docker/remote-state.js';
import { takeSnapshot } from '../../controller/src/state/index.js';
import { describeDocker } from '../helpers/docker.js';
import { queueByStatus, taken } from '../helpers/live-state-probe.js';
import { startEngineB, type EngineB } from '../helpers/runtime-engine-b.js';
import { REPO_ROOT, buildTestImages, cleanupProject, hashTree, seedState, testId, type TestImages } from '../helpers/runtime-fixtures.js';

/**
 * ssh:// and TLS engines for real: the namespace engine serves its API only over TCP with
 * --tlsverify (certificates made by openssl in the helper) and runs Debian's sshd (a generated
 * key; sessions reach the engine by `docker system dial-stdio`). Lanes start, list and stop over
 * each; bad credentials and unreachable endpoints are coded errors naming the host. Lane state on
 * such a host is a volume THERE (remote-state.ts): copied through the archive endpoint, hashed
 * there against the source or its snapshot manifest, removed with the lane (a live lane's is the
 * project's live state, `<project>-live-state`: kept, and mounted by the next live lane),
 * and `wvo parity host:HOST:VOLUME/FILE` compares it with a local copy.
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

const remoteVolumes = async (project: string) => (await engine!.docker.listVolumes({ filters: { label: [`wvo.project=${project}`] } })).Volumes.map((v) => v.Name).sort();
const remoteContainers = async (project: string) => (await engine!.docker.listContainers({ all: true, filters: { label: [`wvo.project=${project}`] } })).length;
const cli = (...args: string[]) => execa(process.execPath, [join(REPO_ROOT, 'dist/controller/src/cli/main.js'), ...args, '--json'], { cwd: work, reject: false, env: { WVO_CONFIG: '' } });

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

  it('over TLS: a shadow lane on a snapshot runs on a copy in a volume on that host, checked there against the manifest; removed with the lane', async () => {
    const host = tlsHost('tlsb', engine!.tls!);
    const runtime = runtimeFor(`${id}-tls`, host);
    const snapshot = await takeSnapshot({ sourceRoot: await seedState(join(work, 'tls-src')), destRoot: join(work, 'tls-snap') });
    const before = hashTree(snapshot.root);
    const phases: string[] = [];
    const started = Date.now();
    const lane = await runtime.startLane(
      { name: 'over-tls', image: images!.worker, stateDir: snapshot.root, host: host.name, role: 'shadow-replica', dryRun: true },
      { onProgress: (e) => phases.push(e.phase) },
    );
    console.log(`[engines] lane over tls ready in ${Date.now() - started} ms (image transfer + state copy + start)`);
    expect(phases).toEqual(expect.arrayContaining(['transfer', 'state', 'start']));
    expect(lane).toMatchObject({ host: host.name, status: 'ready', stateDir: snapshot.root });
    expect(lane.url).toMatch(new RegExp(`^http://${engine!.address.replaceAll('.', '\\.')}:\\d+$`));
    // It runs on the namespace engine (seen through its own socket) and mounts a volume there, not this machine's dir.
    const volume = `${id}-tls-state-over-tls`;
    const [info] = await engine!.docker.listContainers({ filters: { label: ['wvo.lane=over-tls'] } });
    expect(info!.Mounts.map((m) => [m.Type, m.Name, m.Destination])).toEqual([['volume', volume, '/state']]);
    const mcp = await connectMcp(lane.url!, 'engines-test');
    try {
      expect((await mcp.call('orchestrator_status')).isError).toBe(false);
    } finally {
      await mcp.close();
    }
    expect((await runtime.listLanes()).map((l) => [l.name, l.host, l.status])).toEqual([['over-tls', host.name, 'ready']]);
    expect((await runtime.stopLane('over-tls')).status).toBe('stopped');
    await runtime.removeLane('over-tls');
    expect(await runtime.listLanes()).toEqual([]);
    expect(await remoteVolumes(`${id}-tls`)).toEqual([]);
    expect(await remoteContainers(`${id}-tls`)).toBe(0);
    expect(hashTree(snapshot.root)).toEqual(before);

    // The manifest now claims another digest: the copy hashed on the host cannot match it.
    const manifest = JSON.parse(readFileSync(join(snapshot.root, 'manifest.json'), 'utf8')) as { files: Array<{ path: string; sha256: string }> };
    manifest.files[0]!.sha256 = '0'.repeat(64);
    writeFileSync(join(snapshot.root, 'manifest.json'), JSON.stringify(manifest));
    const error = await runtime.startLane({ name: 'over-tls', image: images!.worker, stateDir: snapshot.root, host: host.name, role: 'shadow-replica', dryRun: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WVO_STATE_VERIFY_FAILED', subject: snapshot.root, details: { host: host.name } });
    expect((error as Error).message).toContain(`${manifest.files[0]!.path}: sha256`);
    expect(await remoteVolumes(`${id}-tls`)).toEqual([]);
    expect(await remoteContainers(`${id}-tls`)).toBe(0);
  });

  it('over ssh: a live lane writes the live state volume on that host; wvo parity host:… differs from the local source; the volume outlives the lane and the next live lane mounts it', async () => {
    const s = engine!.ssh!;
    const host = sshHost('sshb', { identityFile: s.identityFile, knownHostsFile: s.knownHostsFile });
    const project = `${id}-ssh`;
    const runtime = runtimeFor(project, host);
    const source = await seedState(join(work, 'ssh'));
    const started = Date.now();
    const lane = await runtime.startLane({ name: 'over-ssh', image: images!.worker, stateDir: source, host: host.name });
    console.log(`[engines] lane over ssh ready in ${Date.now() - started} ms (state copy + start)`);
    expect(lane).toMatchObject({ host: host.name, status: 'ready', role: 'live' });
    const takenBefore = taken(await queueByStatus(lane.url!));
    const mcp = await connectMcp(lane.url!, 'engines-test');
    try {
      for (let i = 0; i < 2; i++) expect((await mcp.call('dispatch', { agent: 'remote' })).isError).toBe(false);
    } finally {
      await mcp.close();
    }
    expect((await runtime.listLanes()).map((l) => [l.name, l.host, l.status])).toEqual([['over-ssh', host.name, 'ready']]);
    expect((await runtime.stopLane('over-ssh')).status).toBe('stopped');
    const volume = `${project}-live-state`;
    // The copy there has the dispatches; the local source does not (fetched over ssh by the CLI).
    writeFileSync(join(work, 'wvo.config.json'), JSON.stringify({ projectName: project, runtime: 'docker', hosts: [{ ...host, network: undefined }] }));
    const parity = await cli('parity', `host:sshb:${volume}/orchestrator.db`, join(source, 'orchestrator.db'));
    expect(parity.exitCode, parity.stdout).toBe(1);
    expect(JSON.parse(parity.stdout)).toMatchObject({ equal: false, a: `host:sshb:${volume}/orchestrator.db` });
    // A live lane's state is never deleted with it: the next live lane of the project mounts it as it is.
    await runtime.removeLane('over-ssh');
    expect(await remoteVolumes(project)).toEqual([volume]);
    const next = await runtime.startLane({ name: 'over-ssh', image: images!.worker, stateDir: source, host: host.name });
    expect(taken(await queueByStatus(next.url!))).toBe(takenBefore + 2);
    await runtime.removeLane('over-ssh');
    // Another state root of the same project is not that live state: refused, never mounted.
    await expect(runtime.startLane({ name: 'over-ssh', image: images!.worker, stateDir: await seedState(join(work, 'ssh-other')), host: host.name })).rejects.toMatchObject({
      code: 'WVO_STATE_REMOTE_EXISTS',
      subject: volume,
      details: { host: host.name },
    });
    await expect(fetchRemoteStateFile(runtime.host('sshb'), `${project}-state-none`, 'orchestrator.db', work)).rejects.toMatchObject({ code: 'WVO_REMOTE_PATH_INVALID' });
    await engine!.docker.getVolume(volume).remove();
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
    const result = await cli('hosts', 'check');
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
