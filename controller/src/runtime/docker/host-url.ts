import type { Agent } from 'node:http';
import type { DockerOptions } from 'dockerode';
import { RuntimeError } from '../errors.js';

export const ENDPOINT_SCHEMES = ['unix', 'tcp', 'ssh'] as const;

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/** A Docker endpoint parsed from `unix:///path`, `tcp://host:port` or `ssh://user@host[:port]`. */
export type DockerEndpoint =
  | { scheme: 'unix'; url: string; socketPath: string }
  | { scheme: 'tcp'; url: string; host: string; port: number; tls: boolean }
  | { scheme: 'ssh'; url: string; host: string; port: number; username?: string };

export const DEFAULT_SOCKET = '/var/run/docker.sock';

function invalid(url: string, why: string, subject: string): RuntimeError {
  return new RuntimeError('WVO_HOST_URL_INVALID', `docker endpoint "${url}" is malformed: ${why}`, {
    subject,
    hint: 'Use unix:///var/run/docker.sock, tcp://HOST:PORT (TLS with a "tls" block) or ssh://USER@HOST[:PORT].',
    exitCode: 2,
  });
}

/** Parse an endpoint URL (pure). `subject` names where it came from (a config path or a flag). */
export function parseDockerEndpoint(url: string, options: { tls?: boolean; subject?: string } = {}): DockerEndpoint {
  const subject = options.subject ?? url;
  const match = /^([a-z]+):\/\/(.*)$/.exec(url.trim());
  if (!match) throw invalid(url, 'expected SCHEME://…', subject);
  const scheme = match[1]!;
  const rest = match[2]!;
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) throw invalid(url, 'a unix socket needs an absolute path (unix:///path)', subject);
    return { scheme: 'unix', url, socketPath: rest };
  }
  if (scheme !== 'tcp' && scheme !== 'ssh' && scheme !== 'http' && scheme !== 'https') {
    throw invalid(url, `unknown scheme "${scheme}"`, subject);
  }
  let parsed: URL;
  try {
    parsed = new URL(`${scheme === 'ssh' ? 'ssh' : 'http'}://${rest}`);
  } catch {
    throw invalid(url, 'not a URL', subject);
  }
  if (!parsed.hostname) throw invalid(url, 'no host', subject);
  if ((parsed.pathname && parsed.pathname !== '/') || parsed.search) throw invalid(url, 'unexpected path or query', subject);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (scheme === 'ssh') {
    const port = parsed.port ? Number(parsed.port) : 22;
    return { scheme: 'ssh', url, host, port, ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}) };
  }
  const tls = options.tls ?? scheme === 'https';
  if (!parsed.port && scheme === 'tcp') throw invalid(url, 'tcp:// needs a port (2375, or 2376 with TLS)', subject);
  const port = parsed.port ? Number(parsed.port) : tls ? 2376 : 2375;
  return { scheme: 'tcp', url, host, port, tls };
}

/** DOCKER_HOST when set, else the default socket. */
export function defaultEndpointUrl(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.DOCKER_HOST?.trim();
  return fromEnv ? fromEnv : `unix://${DEFAULT_SOCKET}`;
}

/**
 * dockerode constructor options for an endpoint (pure; TLS material passed in already read). An
 * ssh endpoint given `sshAgent` (docker/ssh-agent.ts) speaks plain HTTP through it; without one,
 * docker-modem's own ssh transport (a new ssh connection per request).
 */
export function dockerOptions(
  endpoint: DockerEndpoint,
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer },
  sshAgent?: Agent,
): DockerOptions {
  switch (endpoint.scheme) {
    case 'unix':
      return { socketPath: endpoint.socketPath };
    case 'tcp':
      return {
        host: endpoint.host,
        port: endpoint.port,
        protocol: endpoint.tls ? 'https' : 'http',
        ...(endpoint.tls && tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}),
      };
    case 'ssh':
      // dockerode's typings omit `agent`; docker-modem passes it to http.request.
      if (sshAgent) return { host: endpoint.host, port: endpoint.port, protocol: 'http', agent: sshAgent } as DockerOptions;
      return {
        host: endpoint.host,
        port: endpoint.port,
        protocol: 'ssh',
        ...(endpoint.username ? { username: endpoint.username } : {}),
        sshOptions: { agent: process.env.SSH_AUTH_SOCK },
      } as DockerOptions;
  }
}
