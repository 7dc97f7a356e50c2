import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';

/**
 * A second Docker engine in its own network namespace (ENGINE.md), standing in for a remote host
 * reached over the Docker API at <net>.N.2. Every name is unique per call, and `destroy()`
 * removes all of it (containers, dockerd, sshd, netns, veth, data dirs, keys) even after a failed start.
 *
 * Options make it a more realistic remote: `tls` serves the API only over TCP with --tlsverify
 * (a CA, server and client certificates generated here), `ssh` runs Debian's sshd in the
 * namespace (root login with a generated key; sessions reach this engine through DOCKER_HOST),
 * `swarm` keeps the engine's bridge and iptables (a Swarm node needs them).
 */
export interface EngineB {
  id: string;
  /** The namespace's name (`ip netns`), for linking engines (linkEngines). */
  ns: string;
  address: string;
  /** The API over TCP: tcp://ADDR:2375, or tcp://ADDR:2376 with `tls`. */
  url: string;
  /** The engine's unix socket: always plain, for the test's own setup and teardown. */
  socket: string;
  docker: Docker;
  /** With `tls`: client material (paths) and a wrong pair for the failure cases. */
  tls?: EngineTls;
  /** With `ssh`: ssh://root@ADDR and the key files. */
  ssh?: EngineSsh;
  /** Milliseconds from the call to the engine answering (setup cost, reported by tests). */
  setupMs: number;
  destroy(): Promise<void>;
}

export interface EngineTls {
  ca: string;
  cert: string;
  key: string;
  /** A CA that did not sign the server's certificate. */
  otherCa: string;
  /** A client pair signed by `otherCa` (the engine refuses it). */
  otherCert: string;
  otherKey: string;
}

export interface EngineSsh {
  url: string;
  identityFile: string;
  /** A key the sshd does not know. */
  wrongIdentityFile: string;
  /** known_hosts holding the sshd's host key for ADDR. */
  knownHostsFile: string;
}

export interface EngineBOptions {
  timeoutMs?: number;
  /** First two octets of the namespace's /24 (default 10.213); suites use their own so they never collide. */
  net?: string;
  tls?: boolean;
  ssh?: boolean;
  swarm?: boolean;
}

async function sh(command: string, args: string[], options: { cwd?: string } = {}): Promise<void> {
  await execa(command, args, options);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function stopPid(pid: number | undefined, group = false): Promise<void> {
  if (!pid || !pidAlive(pid)) return;
  process.kill(group ? -pid : pid, 'SIGTERM');
  for (let i = 0; i < 150 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (pidAlive(pid)) process.kill(group ? -pid : pid, 'SIGKILL');
}

/** A /24 under `net` that no interface on this machine holds yet. */
export async function freeSubnet(net: string): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const octet = randomInt(10, 250);
    const { stdout } = await execa('ip', ['-4', 'addr', 'show', 'to', `${net}.${octet}.0/24`]);
    if (!stdout.trim()) return octet;
  }
  throw new Error(`no free ${net}.x.0/24 subnet`);
}

/** A TLS CA, a server certificate for `address` and client certificates, with openssl (EC keys: milliseconds). */
async function makeTls(dir: string, address: string): Promise<EngineTls & { serverCert: string; serverKey: string }> {
  const openssl = (...args: string[]) => sh('openssl', args, { cwd: dir });
  const key = (name: string) => openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', name);
  const ca = async (name: string) => {
    await key(`${name}-key.pem`);
    await openssl('req', '-x509', '-new', '-key', `${name}-key.pem`, '-subj', `/CN=wvo-test-${name}`, '-days', '2', '-out', `${name}.pem`);
  };
  const sign = async (name: string, by: string, ext: string) => {
    await key(`${name}-key.pem`);
    await openssl('req', '-new', '-key', `${name}-key.pem`, '-subj', `/CN=${name}`, '-out', `${name}.csr`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    await openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${by}.pem`, '-CAkey', `${by}-key.pem`, '-CAcreateserial', '-days', '2', '-out', `${name}-cert.pem`, '-extfile', `${name}.ext`);
  };
  await Promise.all([ca('ca'), ca('other-ca')]);
  await Promise.all([
    sign('server', 'ca', `subjectAltName=IP:${address}\nextendedKeyUsage=serverAuth\n`),
    sign('client', 'ca', 'extendedKeyUsage=clientAuth\n'),
    sign('other-client', 'other-ca', 'extendedKeyUsage=clientAuth\n'),
  ]);
  const at = (name: string) => join(dir, name);
  return {
    ca: at('ca.pem'),
    cert: at('client-cert.pem'),
    key: at('client-key.pem'),
    otherCa: at('other-ca.pem'),
    otherCert: at('other-client-cert.pem'),
    otherKey: at('other-client-key.pem'),
    serverCert: at('server-cert.pem'),
    serverKey: at('server-key.pem'),
  };
}

/** Host and client keys, authorized_keys, known_hosts and an sshd_config whose sessions reach `socket`. */
async function makeSsh(dir: string, address: string, socket: string): Promise<{ config: string; ssh: EngineSsh }> {
  const keygen = (name: string) => sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)]);
  await Promise.all([keygen('host_key'), keygen('client_key'), keygen('wrong_key')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  const hostPub = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'known_hosts'), `${address} ${hostPub}\n`);
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `ListenAddress ${address}:22`,
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      // The key lives under /tmp (world-writable): sshd's ownership checks would refuse it.
      'StrictModes no',
      // `docker system dial-stdio` in the session must reach THIS engine, not the host's socket.
      `SetEnv DOCKER_HOST=unix://${socket}`,
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  return {
    config,
    ssh: {
      url: `ssh://root@${address}`,
      identityFile: join(dir, 'client_key'),
      wrongIdentityFile: join(dir, 'wrong_key'),
      knownHostsFile: join(dir, 'known_hosts'),
    },
  };
}

async function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitFor(what: string, deadline: number, check: () => Promise<boolean>, failed: () => string | undefined): Promise<void> {
  for (;;) {
    if (await check()) return;
    const why = failed();
    if (why !== undefined || Date.now() > deadline) throw new Error(`${what}${why ? `:\n${why}` : ' (timed out)'}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function detach(command: string, args: string[], logFile: string, env: Record<string, string> = {}): number | undefined {
  const log = openSync(logFile, 'w');
  const child = execa(command, args, { stdin: 'ignore', stdout: log as 1, stderr: log as 1, detached: true, cleanup: false, reject: false, env });
  closeSync(log);
  child.catch(() => undefined);
  child.unref();
  return child.pid;
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-15).join('\n') : '';
}

export async function startEngineB(options: EngineBOptions = {}): Promise<EngineB> {
  const started = Date.now();
  const net = options.net ?? '10.213';
  const id = randomBytes(3).toString('hex');
  const ns = `wvo-b-${id}`;
  const vethA = `wvb${id}a`;
  const vethB = `wvb${id}b`;
  const dataRoot = `/var/lib/wvo-docker-b-${id}`;
  // /run, not /var/run (a symlink): /proc/mounts lists real paths, and teardown matches on them.
  const execRoot = `/run/wvo-docker-b-${id}`;
  const pidFile = `/run/wvo-docker-b-${id}.pid`;
  const socket = `/run/wvo-docker-b-${id}.sock`;
  const logFile = `/tmp/wvo-dockerd-b-${id}.log`;
  const keys = mkdtempSync(join(tmpdir(), `wvo-engine-b-${id}-`));
  let octet = 0;
  let dockerdPid: number | undefined;
  let sshdPid: number | undefined;
  const address = () => `${net}.${octet}.2`;
  const docker = new Docker({ socketPath: socket });

  const destroy = async () => {
    await stopPid(sshdPid, true);
    if (dockerdPid && pidAlive(dockerdPid)) {
      // A swarm node leaves first (its tasks go with it); then whatever containers remain.
      await docker.swarmLeave({ force: true }).catch(() => undefined);
      for (const c of await docker.listContainers({ all: true }).catch(() => [])) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
    await stopPid(dockerdPid);
    // Whatever dockerd left mounted under its roots (overlay layers, netns files).
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter((point) => point.startsWith(dataRoot) || point.startsWith(execRoot))
      .sort((a, b) => b.length - a.length);
    for (const point of mounts) await execa('umount', ['-l', point], { reject: false });
    await execa('ip', ['netns', 'del', ns], { reject: false });
    await execa('ip', ['link', 'del', vethA], { reject: false });
    for (const path of [dataRoot, execRoot, pidFile, socket, logFile, `${logFile}.sshd`, keys]) {
      try {
        rmSync(path, { recursive: true, force: true });
      } catch {
        // A mount dockerd still held: detach it and retry once.
        await execa('umount', ['-l', '-R', path], { reject: false });
        rmSync(path, { recursive: true, force: true });
      }
    }
  };

  try {
    octet = await freeSubnet(net);
    await sh('ip', ['netns', 'add', ns]);
    await sh('ip', ['link', 'add', vethA, 'type', 'veth', 'peer', 'name', vethB]);
    await sh('ip', ['link', 'set', vethB, 'netns', ns]);
    await sh('ip', ['addr', 'add', `${net}.${octet}.1/24`, 'dev', vethA]);
    await sh('ip', ['link', 'set', vethA, 'up']);
    await sh('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${address()}/24`, 'dev', vethB]);
    await sh('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', vethB, 'up']);
    await sh('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const tls = options.tls ? await makeTls(keys, address()) : undefined;
    // --tls=false on a plain TCP listener: otherwise dockerd waits 15 s before listening.
    const listen = tls
      ? ['-H', `tcp://${address()}:2376`, '--tlsverify', '--tlscacert', tls.ca, '--tlscert', tls.serverCert, '--tlskey', tls.serverKey]
      : ['-H', `tcp://${address()}:2375`, '--tls=false'];
    // nsenter, not `ip netns exec` (which remounts /sys; dockerd then fails on cgroups).
    dockerdPid = detach(
      'nsenter',
      [
        `--net=/var/run/netns/${ns}`,
        'dockerd',
        '--data-root', dataRoot,
        '--exec-root', execRoot,
        '--pidfile', pidFile,
        '-H', `unix://${socket}`,
        ...listen,
        ...(options.swarm ? [] : ['--bridge=none', '--iptables=false']),
      ],
      logFile,
      { DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1' },
    );
    const ssh = options.ssh ? await makeSsh(keys, address(), socket) : undefined;
    if (ssh) {
      mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege-separation dir (shared, never removed)
      sshdPid = detach('nsenter', [`--net=/var/run/netns/${ns}`, '/usr/sbin/sshd', '-D', '-e', '-f', ssh.config], `${logFile}.sshd`);
    }
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    const dockerDied = () => (dockerdPid && !pidAlive(dockerdPid) ? tail(logFile) || 'dockerd exited' : undefined);
    await waitFor(`second engine did not answer on ${socket}`, deadline, () => docker.ping().then(() => true, () => false), dockerDied);
    if (ssh) await waitFor(`sshd did not listen on ${address()}:22`, deadline, () => portOpen(address(), 22), () => (sshdPid && !pidAlive(sshdPid) ? tail(`${logFile}.sshd`) || 'sshd exited' : undefined));
    return {
      id,
      ns,
      address: address(),
      url: tls ? `tcp://${address()}:2376` : `tcp://${address()}:2375`,
      socket,
      docker,
      ...(tls ? { tls: { ca: tls.ca, cert: tls.cert, key: tls.key, otherCa: tls.otherCa, otherCert: tls.otherCert, otherKey: tls.otherKey } } : {}),
      ...(ssh ? { ssh: ssh.ssh } : {}),
      setupMs: Date.now() - started,
      destroy,
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}

/**
 * A direct link between two engines' namespaces (a veth pair on its own /24), for traffic the
 * host must not forward (its FORWARD policy is Docker's DROP): Swarm control and gossip between
 * nodes. Removed with either namespace.
 */
export async function linkEngines(a: EngineB, b: EngineB, net: string): Promise<{ addressA: string; addressB: string }> {
  const octet = await freeSubnet(net);
  const left = `wvl${a.id}`;
  const right = `wvl${b.id}`;
  await sh('ip', ['link', 'add', left, 'netns', a.ns, 'type', 'veth', 'peer', 'name', right, 'netns', b.ns]);
  const addressA = `${net}.${octet}.1`;
  const addressB = `${net}.${octet}.2`;
  await sh('ip', ['netns', 'exec', a.ns, 'ip', 'addr', 'add', `${addressA}/24`, 'dev', left]);
  await sh('ip', ['netns', 'exec', a.ns, 'ip', 'link', 'set', left, 'up']);
  await sh('ip', ['netns', 'exec', b.ns, 'ip', 'addr', 'add', `${addressB}/24`, 'dev', right]);
  await sh('ip', ['netns', 'exec', b.ns, 'ip', 'link', 'set', right, 'up']);
  return { addressA, addressB };
}

/** A real two-node Swarm of namespace engines (ENGINE.md), so the host engine never enters swarm mode. */
export interface SwarmPair {
  manager: EngineB;
  worker: EngineB;
  /** Node label values under `wvo.node`: `<id>-m` on the manager node, `<id>-w` on the worker. */
  labels: { manager: string; worker: string };
  setupMs: number;
  destroy(): Promise<void>;
}

/**
 * Two namespace engines joined into a swarm over a direct link (the host does not forward
 * between namespaces), each node labelled `wvo.node=<label>`. Published ports are reached at each
 * engine's own address. `destroy()` leaves the swarm and removes both engines.
 */
export async function startSwarmPair(options: { net?: string; timeoutMs?: number } = {}): Promise<SwarmPair> {
  const started = Date.now();
  const net = options.net ?? '10.214';
  const engines = await Promise.allSettled([startEngineB({ net, swarm: true, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) }), startEngineB({ net, swarm: true })]);
  const up = engines.flatMap((e) => (e.status === 'fulfilled' ? [e.value] : []));
  const destroy = async () => {
    // The worker leaves first, then the manager (EngineB.destroy leaves with force).
    for (const engine of [...up].reverse()) await engine.destroy();
  };
  try {
    const failed = engines.find((e) => e.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const [manager, worker] = up as [EngineB, EngineB];
    const { addressA, addressB } = await linkEngines(manager, worker, net);
    await manager.docker.swarmInit({ ListenAddr: `${addressA}:2377`, AdvertiseAddr: `${addressA}:2377` });
    const token = ((await manager.docker.swarmInspect()) as { JoinTokens: { Worker: string } }).JoinTokens.Worker;
    await worker.docker.swarmJoin({ ListenAddr: `${addressB}:2377`, AdvertiseAddr: `${addressB}:2377`, RemoteAddrs: [`${addressA}:2377`], JoinToken: token });
    const labels = { manager: `${manager.id}-m`, worker: `${worker.id}-w` };
    type SwarmNode = { ID: string; Version: { Index: number }; Spec: Record<string, unknown>; Status?: { State?: string }; ManagerStatus?: unknown };
    const deadline = Date.now() + 30_000;
    let nodes: SwarmNode[] = [];
    while ((nodes = (await manager.docker.listNodes()) as SwarmNode[]).filter((n) => n.Status?.State === 'ready').length < 2) {
      if (Date.now() > deadline) throw new Error(`swarm nodes not ready: ${JSON.stringify(nodes.map((n) => n.Status))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const node of nodes) {
      const label = node.ManagerStatus ? labels.manager : labels.worker;
      await manager.docker.getNode(node.ID).update({ _query: { version: node.Version.Index }, _body: { ...node.Spec, Labels: { 'wvo.node': label } } } as never);
    }
    return { manager, worker, labels, setupMs: Date.now() - started, destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}
