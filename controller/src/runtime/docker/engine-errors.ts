import { RuntimeError } from '../errors.js';
import type { DockerEndpoint } from './host-url.js';

/**
 * Why an engine connection failed, from the transport's error (pure): the engine (or its sshd)
 * refused our credentials, we refused the engine's identity, or nothing answered.
 */
export const CONNECTION_FAILURES = ['auth', 'untrusted', 'unreachable'] as const;
export type ConnectionFailure = (typeof CONNECTION_FAILURES)[number];

/** Node's TLS codes for a server certificate our CA does not vouch for (or that names another host). */
const UNTRUSTED_TLS = /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_SIGNATURE_FAILURE|CERT_UNTRUSTED|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID)$/;

export function classifyConnectionError(error: unknown): ConnectionFailure {
  const e = error as { code?: unknown; level?: unknown; message?: unknown; statusCode?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (e.level === 'client-authentication') return 'auth';
  if (e.level === 'handshake' && /verification failed/i.test(message)) return 'untrusted';
  if (UNTRUSTED_TLS.test(code)) return 'untrusted';
  // The engine's alert when our client certificate is missing or signed by a CA it does not trust.
  if (/^ERR_SSL_.*(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN)$/.test(code)) return 'auth';
  // A --tlsverify engine answering a plain HTTP request.
  if (e.statusCode === 400 && /HTTP request to an HTTPS server/i.test(message)) return 'auth';
  return 'unreachable';
}

export interface EngineRef {
  name: string;
  endpoint: DockerEndpoint;
  local: boolean;
}

function reasonOf(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message.split('\n')[0]!.trim() : String(error);
  return typeof e.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}

/** The coded error for a failed connection to `host`, naming the host and its endpoint. */
export function connectionError(host: EngineRef, error: unknown): RuntimeError {
  const url = host.endpoint.url;
  const options = { subject: url, details: { host: host.name, endpoint: url }, cause: error };
  const failure = classifyConnectionError(error);
  if (failure === 'auth') {
    const ssh = host.endpoint.scheme === 'ssh';
    return new RuntimeError('WVO_ENGINE_AUTH_FAILED', `Docker engine "${host.name}" at ${url} refused our credentials (${reasonOf(error)})`, {
      ...options,
      hint: ssh
        ? `Check hosts[].ssh.identityFile for "${host.name}": its public key must be in the remote user's authorized_keys.`
        : `Check hosts[].tls.cert/key for "${host.name}": the engine (--tlsverify) accepts client certificates signed by its --tlscacert only.`,
    });
  }
  if (failure === 'untrusted') {
    const ssh = host.endpoint.scheme === 'ssh';
    return new RuntimeError('WVO_ENGINE_UNTRUSTED', `Docker engine "${host.name}" at ${url} is not the one we trust (${reasonOf(error)})`, {
      ...options,
      hint: ssh
        ? `Its ssh host key is not in hosts[].ssh.knownHostsFile for "${host.name}": add it (ssh-keyscan, checked out of band) or fix the address.`
        : `Its certificate is not signed by hosts[].tls.ca for "${host.name}" (or does not name ${host.endpoint.scheme === 'tcp' ? host.endpoint.host : 'the host'}): point tls.ca at the CA that signed the engine's --tlscert.`,
    });
  }
  // The transport's code alone (ECONNREFUSED), as before: select.ts quotes it when falling back.
  const reason = (error as { code?: string }).code ?? (error as Error).message ?? String(error);
  return new RuntimeError('WVO_ENGINE_UNREACHABLE', `Docker engine "${host.name}" at ${url} does not answer (${reason})`, {
    ...options,
    hint: host.local
      ? 'Start the engine (.ci/ensure-docker.sh), check DOCKER_HOST, or use runtime "local".'
      : `Check that ${url} is reachable and the engine listens there (wvo hosts check).`,
  });
}
