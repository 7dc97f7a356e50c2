import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { classifyConnectionError, connectionError } from '../../controller/src/runtime/docker/engine-errors.js';
import { parseDockerEndpoint } from '../../controller/src/runtime/docker/host-url.js';
import { knownHostName, parseKnownHosts, trustedKeys } from '../../controller/src/runtime/docker/known-hosts.js';

describe('classifyConnectionError', () => {
  it.each([
    [{ level: 'client-authentication', message: 'All configured authentication methods failed' }, 'auth'],
    [{ level: 'handshake', message: 'Host denied (verification failed)' }, 'untrusted'],
    [{ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: 'unable to verify the first certificate' }, 'untrusted'],
    [{ code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: "Hostname/IP does not match certificate's altnames" }, 'untrusted'],
    [{ code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', message: 'sslv3 alert bad certificate' }, 'auth'],
    [{ code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', message: 'certificate required' }, 'auth'],
    [{ statusCode: 400, message: '(HTTP code 400) unexpected - Client sent an HTTP request to an HTTPS server.' }, 'auth'],
    [{ code: 'ECONNREFUSED', level: 'client-socket', message: 'connect ECONNREFUSED 10.214.1.2:2222' }, 'unreachable'],
    [{ code: 'ETIMEDOUT', message: 'timeout' }, 'unreachable'],
    [{ level: 'handshake', message: 'Handshake failed: no matching key exchange algorithm' }, 'unreachable'],
  ])('%o → %s', (error, failure) => {
    expect(classifyConnectionError(error)).toBe(failure);
  });

  it('names the host and its endpoint in every code', () => {
    const host = { name: 'hostb', endpoint: parseDockerEndpoint('ssh://root@10.214.1.2'), local: false };
    expect(connectionError(host, { level: 'client-authentication', message: 'All configured authentication methods failed' })).toMatchObject({
      code: 'WVO_ENGINE_AUTH_FAILED',
      subject: 'ssh://root@10.214.1.2',
      details: { host: 'hostb' },
      message: expect.stringContaining('"hostb"'),
      hint: expect.stringContaining('identityFile'),
    });
    const tls = { name: 'tlsb', endpoint: parseDockerEndpoint('tcp://10.214.1.2:2376', { tls: true }), local: false };
    expect(connectionError(tls, { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: 'x' })).toMatchObject({ code: 'WVO_ENGINE_UNTRUSTED', hint: expect.stringContaining('tls.ca') });
    expect(connectionError(tls, { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }).message).toBe('Docker engine "tlsb" at tcp://10.214.1.2:2376 does not answer (ECONNREFUSED)');
  });
});

describe('known_hosts', () => {
  const key = 'AAAAC3NzaC1lZDI1NTE5AAAAIKw0SGZ0Ct2ILd7XbRjlZC0t9T4MNvhvVZcCxmFm6i4P';
  const other = 'AAAAC3NzaC1lZDI1NTE5AAAAIOtherOtherOtherOtherOtherOtherOtherOther00';
  const salt = Buffer.from('0123456789abcdef0123');
  const hashed = (name: string) => `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;

  it('finds keys by plain, bracketed-port, wildcard and hashed patterns; skips comments and markers', () => {
    const entries = parseKnownHosts(
      [
        '# comment',
        `10.214.1.2,engine-b ssh-ed25519 ${key} root@b`,
        `[10.214.1.2]:2222 ssh-ed25519 ${other}`,
        `*.example.org,!bad.example.org ssh-ed25519 ${other}`,
        `${hashed('[h.internal]:2200')} ssh-ed25519 ${key}`,
        `@revoked 10.214.1.2 ssh-ed25519 ${other}`,
        '',
      ].join('\n'),
    );
    expect(trustedKeys(entries, '10.214.1.2', 22)).toEqual([key]);
    expect(trustedKeys(entries, 'engine-b', 22)).toEqual([key]);
    expect(trustedKeys(entries, '10.214.1.2', 2222)).toEqual([other]);
    expect(trustedKeys(entries, 'a.example.org', 22)).toEqual([other]);
    expect(trustedKeys(entries, 'bad.example.org', 22)).toEqual([]);
    expect(trustedKeys(entries, 'h.internal', 2200)).toEqual([key]);
    expect(trustedKeys(entries, 'h.internal', 22)).toEqual([]);
    expect(knownHostName('h', 22)).toBe('h');
  });
});
