import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { resolve } from 'node:path';
import Docker from 'dockerode';
import type { HostConfig } from '../../config/index.js';
import { WvoError } from '../../../../common/src/errors.js';
import { RuntimeError } from '../errors.js';
import { connectionError } from './engine-errors.js';
import { defaultEndpointUrl, dockerOptions, parseDockerEndpoint, type DockerEndpoint } from './host-url.js';
import { parseKnownHosts, trustedKeys } from './known-hosts.js';
import { SshDockerAgent } from './ssh-agent.js';

/** One Docker engine from config: a client plus where its lanes are reached. */
export interface DockerHost {
  name: string;
  endpoint: DockerEndpoint;
  docker: Docker;
  /** Address lanes on this host are reached at. */
  address: string;
  /** Address ports are published on in bridge mode (loopback for the local engine). */
  publishIp: string;
  network: 'auto' | 'bridge' | 'host';
  /** True for the engine images are built on (transfers start from it). */
  local: boolean;
  /**
   * Where a lane's state lives: `bind` mounts the state dir from this machine's filesystem (the
   * local engine); `volume` prepares a copy on the engine's host through the API (remote-state.ts).
   */
  state: 'bind' | 'volume';
  /** Drop held connections (ssh); the handle still works afterwards (it reconnects). */
  close(): void;
}

export const LOCAL_HOST = 'local';

/** A credential file from config, read now; unreadable is a coded error naming its JSON path. */
function readCredential(path: string | undefined, baseDir: string, subject: string): Buffer | undefined {
  if (!path) return undefined;
  const file = resolve(baseDir, path.replace(/^~(?=\/)/, homedir()));
  try {
    return readFileSync(file);
  } catch (error) {
    throw new RuntimeError('WVO_HOST_CREDENTIAL_UNREADABLE', `cannot read ${subject} (${file}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      subject,
      hint: 'Point it at an existing file readable by this user (relative paths resolve against the config file\'s directory).',
      exitCode: 2,
      cause: error,
    });
  }
}

function sshAgentFor(endpoint: Extract<DockerEndpoint, { scheme: 'ssh' }>, ssh: HostConfig['ssh'], baseDir: string, subject: string, env: NodeJS.ProcessEnv): SshDockerAgent {
  const privateKey = readCredential(ssh?.identityFile, baseDir, `${subject}.ssh.identityFile`);
  const knownHosts = readCredential(ssh?.knownHostsFile, baseDir, `${subject}.ssh.knownHostsFile`);
  const trusted = knownHosts ? trustedKeys(parseKnownHosts(knownHosts.toString('utf8')), endpoint.host, endpoint.port) : undefined;
  return new SshDockerAgent({
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.username ?? env.USER ?? userInfo().username,
    ...(privateKey ? { privateKey } : env.SSH_AUTH_SOCK ? { agent: env.SSH_AUTH_SOCK } : {}),
    ...(trusted ? { hostVerifier: (key: Buffer) => trusted.includes(key.toString('base64')) } : {}),
    readyTimeout: 10_000,
  });
}

/** Build host handles from config; the implicit "local" host is DOCKER_HOST or the default socket. */
export function connectHosts(hosts: HostConfig[], options: { env?: NodeJS.ProcessEnv; baseDir?: string } = {}): Map<string, DockerHost> {
  const env = options.env ?? process.env;
  const baseDir = options.baseDir ?? process.cwd();
  const all: HostConfig[] = hosts.some((h) => h.name === LOCAL_HOST)
    ? hosts
    : [{ name: LOCAL_HOST, docker: defaultEndpointUrl(env), network: 'auto' }, ...hosts];
  const out = new Map<string, DockerHost>();
  all.forEach((host) => {
    const index = hosts.indexOf(host);
    const path = index >= 0 ? `hosts[${index}]` : 'DOCKER_HOST';
    const subject = index >= 0 ? `${path}.docker` : 'DOCKER_HOST';
    const endpoint = parseDockerEndpoint(host.docker, { ...(host.tls ? { tls: true } : {}), subject });
    const tls = host.tls
      ? { ca: readCredential(host.tls.ca, baseDir, `${path}.tls.ca`), cert: readCredential(host.tls.cert, baseDir, `${path}.tls.cert`), key: readCredential(host.tls.key, baseDir, `${path}.tls.key`) }
      : undefined;
    const agent = endpoint.scheme === 'ssh' ? sshAgentFor(endpoint, host.ssh, baseDir, path, env) : undefined;
    const isLocal = host.name === LOCAL_HOST;
    const remoteAddress = endpoint.scheme === 'unix' ? '127.0.0.1' : endpoint.host;
    const address = host.address ?? (isLocal ? '127.0.0.1' : remoteAddress);
    out.set(host.name, {
      name: host.name,
      endpoint,
      docker: new Docker(dockerOptions(endpoint, tls, agent)),
      address,
      publishIp: endpoint.scheme === 'unix' || isLocal ? '127.0.0.1' : address,
      network: host.network,
      local: isLocal,
      state: (host.state ?? 'auto') === 'auto' ? (isLocal ? 'bind' : 'volume') : (host.state as 'bind' | 'volume'),
      close: () => agent?.destroy(),
    });
  });
  return out;
}

/** An ssh host's first ping includes the ssh handshake and a remote docker CLI start (seconds on a busy host). */
function defaultPingTimeout(host: DockerHost): number {
  return host.endpoint.scheme === 'ssh' ? 15_000 : 5000;
}

/** Ping with a deadline; an engine that does not answer is WVO_ENGINE_UNREACHABLE naming the endpoint. */
export async function pingHost(host: DockerHost, timeoutMs = defaultPingTimeout(host)): Promise<void> {
  try {
    // dockerode's typings omit ping's options; its implementation takes an abortSignal.
    const docker = host.docker as unknown as { ping(options: { abortSignal: AbortSignal }): Promise<unknown> };
    await docker.ping({ abortSignal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw unreachable(host, error);
  }
}

/** The coded error for a failed connection (WVO_ENGINE_UNREACHABLE / _AUTH_FAILED / _UNTRUSTED), naming the host. */
export function unreachable(host: DockerHost, error: unknown): RuntimeError {
  return connectionError(host, error);
}

/** Whether an error from dockerode is the engine saying "no such thing" (404). */
export function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 404;
}

export function isConflict(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 409;
}

/** A transport failure (engine gone), as opposed to an API answer. */
export function isTransportError(error: unknown): boolean {
  if (error instanceof WvoError || (error as { statusCode?: number }).statusCode !== undefined) return false;
  const code = (error as { code?: unknown }).code;
  if ((typeof code === 'string' && (/^E[A-Z]+$/.test(code) || /^(ERR_SSL_|ERR_TLS_|UNABLE_TO_|CERT_|SELF_SIGNED|DEPTH_ZERO)/.test(code))) || (error as Error).name === 'AbortError') return true;
  // ssh2 marks its failures with a level (client-socket, client-authentication, handshake…).
  return typeof (error as { level?: unknown }).level === 'string';
}
