import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultEndpointUrl, dockerOptions, parseDockerEndpoint } from '../../controller/src/runtime/docker/host-url.js';
import { connectHosts } from '../../controller/src/runtime/docker/engine.js';

describe('parseDockerEndpoint', () => {
  it('parses unix, tcp (with and without TLS) and ssh endpoints', () => {
    expect(parseDockerEndpoint('unix:///var/run/docker-b.sock')).toMatchObject({ scheme: 'unix', socketPath: '/var/run/docker-b.sock' });
    expect(parseDockerEndpoint('tcp://10.213.0.2:2375')).toMatchObject({ scheme: 'tcp', host: '10.213.0.2', port: 2375, tls: false });
    expect(parseDockerEndpoint('tcp://h:2376', { tls: true })).toMatchObject({ tls: true });
    expect(parseDockerEndpoint('ssh://deploy@h.example:2222')).toMatchObject({ scheme: 'ssh', host: 'h.example', port: 2222, username: 'deploy' });
    expect(parseDockerEndpoint('ssh://h')).toMatchObject({ port: 22 });
  });

  it.each(['tcp//x:1', 'tcp://:2375', 'tcp://host', 'ftp://h:1', 'unix://relative.sock', 'tcp://h:2375/path', 'nonsense'])(
    'rejects %s with WVO_HOST_URL_INVALID naming where it came from',
    (url) => {
      expect(() => parseDockerEndpoint(url, { subject: 'hosts[1].docker' })).toThrow(
        expect.objectContaining({ code: 'WVO_HOST_URL_INVALID', subject: 'hosts[1].docker' }),
      );
    },
  );

  it('maps endpoints to dockerode options', () => {
    expect(dockerOptions(parseDockerEndpoint('unix:///s.sock'))).toEqual({ socketPath: '/s.sock' });
    expect(dockerOptions(parseDockerEndpoint('tcp://h:2375'))).toEqual({ host: 'h', port: 2375, protocol: 'http' });
    expect(dockerOptions(parseDockerEndpoint('ssh://u@h'))).toMatchObject({ protocol: 'ssh', host: 'h', username: 'u' });
    // With our ssh agent (one ssh connection, dial-stdio channels), plain HTTP through it.
    const agent = new Agent();
    expect(dockerOptions(parseDockerEndpoint('ssh://u@h:2222'), undefined, agent)).toEqual({ host: 'h', port: 2222, protocol: 'http', agent });
    agent.destroy();
  });

  it('ssh and tls hosts: credential files are read at connect time; a missing one names its JSON path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wvo-host-creds-'));
    try {
      writeFileSync(join(dir, 'key'), 'not really a key');
      const hosts = connectHosts([{ name: 'b', docker: 'ssh://deploy@10.214.0.2', ssh: { identityFile: 'key' }, network: 'auto' }], { baseDir: dir, env: {} });
      expect(hosts.get('b')).toMatchObject({ endpoint: { scheme: 'ssh', username: 'deploy' }, state: 'volume', local: false });
      expect(hosts.get('local')).toMatchObject({ state: 'bind' });
      hosts.get('b')!.close();
      expect(() => connectHosts([{ name: 'b', docker: 'ssh://h', ssh: { knownHostsFile: 'nope' }, network: 'auto' }], { baseDir: dir, env: {} })).toThrow(
        expect.objectContaining({ code: 'WVO_HOST_CREDENTIAL_UNREADABLE', subject: 'hosts[0].ssh.knownHostsFile' }),
      );
      expect(() => connectHosts([{ name: 'c', docker: 'tcp://h:2376', tls: { ca: 'ca.pem' }, network: 'auto' }], { baseDir: dir, env: {} })).toThrow(
        expect.objectContaining({ code: 'WVO_HOST_CREDENTIAL_UNREADABLE', subject: 'hosts[0].tls.ca' }),
      );
      // An explicit state mode wins over the default.
      expect(connectHosts([{ name: 'd', docker: 'tcp://h:2375', network: 'auto', state: 'bind' }], { env: {} }).get('d')).toMatchObject({ state: 'bind' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('honours DOCKER_HOST for the implicit local host', () => {
    expect(defaultEndpointUrl({ DOCKER_HOST: 'tcp://127.0.0.1:2375' })).toBe('tcp://127.0.0.1:2375');
    expect(defaultEndpointUrl({})).toBe('unix:///var/run/docker.sock');
    const hosts = connectHosts([{ name: 'b', docker: 'tcp://10.213.0.2:2375', network: 'auto' }], { env: { DOCKER_HOST: 'unix:///tmp/x.sock' } });
    expect(hosts.get('local')!.endpoint.url).toBe('unix:///tmp/x.sock');
    expect(hosts.get('b')).toMatchObject({ address: '10.213.0.2', local: false });
    expect(() => connectHosts([], { env: { DOCKER_HOST: 'bogus' } })).toThrow(expect.objectContaining({ code: 'WVO_HOST_URL_INVALID', subject: 'DOCKER_HOST' }));
  });
});
