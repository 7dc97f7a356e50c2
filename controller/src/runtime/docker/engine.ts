import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Docker from 'dockerode';
import type { HostConfig } from '../../config/schema.js';
import { WvoError } from '../../../../common/src/errors.js';
import { RuntimeError } from '../errors.js';
import { defaultEndpointUrl, dockerOptions, parseDockerEndpoint, type DockerEndpoint } from './host-url.js';

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
}

export const LOCAL_HOST = 'local';

function readTls(path: string | undefined, baseDir: string): Buffer | undefined {
  return path ? readFileSync(resolve(baseDir, path)) : undefined;
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
    const subject = index >= 0 ? `hosts[${index}].docker` : 'DOCKER_HOST';
    const endpoint = parseDockerEndpoint(host.docker, { ...(host.tls ? { tls: true } : {}), subject });
    const tls = host.tls
      ? { ca: readTls(host.tls.ca, baseDir), cert: readTls(host.tls.cert, baseDir), key: readTls(host.tls.key, baseDir) }
      : undefined;
    const isLocal = host.name === LOCAL_HOST;
    const remoteAddress = endpoint.scheme === 'unix' ? '127.0.0.1' : endpoint.host;
    const address = host.address ?? (isLocal ? '127.0.0.1' : remoteAddress);
    out.set(host.name, {
      name: host.name,
      endpoint,
      docker: new Docker(dockerOptions(endpoint, tls)),
      address,
      publishIp: endpoint.scheme === 'unix' || isLocal ? '127.0.0.1' : address,
      network: host.network,
      local: isLocal,
    });
  });
  return out;
}

/** Ping with a deadline; an engine that does not answer is WVO_ENGINE_UNREACHABLE naming the endpoint. */
export async function pingHost(host: DockerHost, timeoutMs = 5000): Promise<void> {
  try {
    // dockerode's typings omit ping's options; its implementation takes an abortSignal.
    const docker = host.docker as unknown as { ping(options: { abortSignal: AbortSignal }): Promise<unknown> };
    await docker.ping({ abortSignal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw unreachable(host, error);
  }
}

export function unreachable(host: DockerHost, error: unknown): RuntimeError {
  const reason = (error as { code?: string }).code ?? (error as Error).message ?? String(error);
  return new RuntimeError('WVO_ENGINE_UNREACHABLE', `Docker engine "${host.name}" at ${host.endpoint.url} does not answer (${reason})`, {
    subject: host.endpoint.url,
    hint: host.local
      ? 'Start the engine (.ci/ensure-docker.sh), check DOCKER_HOST, or use runtime "local".'
      : `Check that ${host.endpoint.url} is reachable and the engine listens there (wvo hosts check).`,
    details: { host: host.name, endpoint: host.endpoint.url },
    cause: error,
  });
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
  return (typeof code === 'string' && /^E[A-Z]+$/.test(code)) || (error as Error).name === 'AbortError';
}
