import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';
import Docker from 'dockerode';
import { execa } from 'execa';

/**
 * A second Docker engine in its own network namespace (ENGINE.md), standing in for a remote host
 * reached over the Docker API at 10.213.N.2:2375. Every name is unique per call, and `destroy()`
 * removes all of it (containers, dockerd, netns, veth, data dirs) even after a failed start.
 */
export interface EngineB {
  id: string;
  address: string;
  url: string;
  docker: Docker;
  destroy(): Promise<void>;
}

async function sh(command: string, args: string[]): Promise<void> {
  await execa(command, args);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function freeSubnet(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const octet = randomInt(10, 250);
    const { stdout } = await execa('ip', ['-4', 'addr', 'show', 'to', `10.213.${octet}.0/24`]);
    if (!stdout.trim()) return octet;
  }
  throw new Error('no free 10.213.x.0/24 subnet');
}

export async function startEngineB(options: { timeoutMs?: number } = {}): Promise<EngineB> {
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
  let octet = 0;
  let dockerdPid: number | undefined;
  const address = () => `10.213.${octet}.2`;

  const destroy = async () => {
    if (octet && dockerdPid && pidAlive(dockerdPid)) {
      const docker = new Docker({ host: address(), port: 2375, protocol: 'http' });
      for (const c of await docker.listContainers({ all: true }).catch(() => [])) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
    if (dockerdPid && pidAlive(dockerdPid)) {
      process.kill(dockerdPid, 'SIGTERM');
      for (let i = 0; i < 150 && pidAlive(dockerdPid); i++) await new Promise((r) => setTimeout(r, 100));
      if (pidAlive(dockerdPid)) process.kill(dockerdPid, 'SIGKILL');
    }
    // Whatever dockerd left mounted under its roots (overlay layers, netns files).
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter((point) => point.startsWith(dataRoot) || point.startsWith(execRoot))
      .sort((a, b) => b.length - a.length);
    for (const point of mounts) await execa('umount', ['-l', point], { reject: false });
    await execa('ip', ['netns', 'del', ns], { reject: false });
    await execa('ip', ['link', 'del', vethA], { reject: false });
    for (const path of [dataRoot, execRoot, pidFile, socket, logFile]) {
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
    octet = await freeSubnet();
    await sh('ip', ['netns', 'add', ns]);
    await sh('ip', ['link', 'add', vethA, 'type', 'veth', 'peer', 'name', vethB]);
    await sh('ip', ['link', 'set', vethB, 'netns', ns]);
    await sh('ip', ['addr', 'add', `10.213.${octet}.1/24`, 'dev', vethA]);
    await sh('ip', ['link', 'set', vethA, 'up']);
    await sh('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${address()}/24`, 'dev', vethB]);
    await sh('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', vethB, 'up']);
    await sh('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const log = openSync(logFile, 'w');
    // nsenter, not `ip netns exec` (which remounts /sys; dockerd then fails on cgroups). --tls=false:
    // otherwise dockerd waits 15 s before listening on TCP without TLS.
    const child = execa(
      'nsenter',
      [
        `--net=/var/run/netns/${ns}`,
        'dockerd',
        '--data-root', dataRoot,
        '--exec-root', execRoot,
        '--pidfile', pidFile,
        '-H', `unix://${socket}`,
        '-H', `tcp://${address()}:2375`,
        '--bridge=none',
        '--iptables=false',
        '--tls=false',
      ],
      { stdin: 'ignore', stdout: log as 1, stderr: log as 1, detached: true, cleanup: false, reject: false, env: { DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1' } },
    );
    closeSync(log);
    child.catch(() => undefined);
    child.unref();
    dockerdPid = child.pid;
    const docker = new Docker({ host: address(), port: 2375, protocol: 'http' });
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      try {
        await docker.ping();
        break;
      } catch {
        if (Date.now() > deadline || (dockerdPid && !pidAlive(dockerdPid))) {
          const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
          throw new Error(`second engine did not answer at tcp://${address()}:2375:\n${tail}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    return { id, address: address(), url: `tcp://${address()}:2375`, docker, destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}
