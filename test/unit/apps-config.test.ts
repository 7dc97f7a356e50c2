import { describe, expect, it } from 'vitest';
import { parseConfig, resolveApp } from '../../controller/src/config/index.js';
import { appEnv, laneAppFrom, WORKER_APP } from '../../controller/src/runtime/index.js';
import { containerCreateOptions } from '../../controller/src/runtime/docker/container-spec.js';

const everything = { image: 'wvo-everything:a', port: 3001, mcpPath: '/mcp', env: { port: 'PORT' } };

describe('apps in wvo.config.json', () => {
  it('defaults: MCP health, no state, no shadow mode; our worker is the app `worker`', () => {
    const config = parseConfig({ apps: { everything } });
    expect(config.apps.everything).toMatchObject({ health: 'mcp', state: { kind: 'none' }, suites: [], safeTools: [] });
    expect(resolveApp(config, 'worker')).toMatchObject({ builtIn: true, config: { health: '/readyz', port: 8080, shadow: { env: 'WVO_SANDBOX' } } });
    expect(resolveApp(config, 'everything').builtIn).toBe(false);
  });

  it.each([
    ['port', { image: 'x', mcpPath: '/mcp' }, 'apps.everything.port'],
    ['mcpPath', { image: 'x', port: 3001 }, 'apps.everything.mcpPath'],
    ['health', { ...everything, health: 'ping' }, 'apps.everything.health'],
    ['a source', { port: 3001, mcpPath: '/mcp' }, 'apps.everything.image'],
    ['a state kind', { ...everything, state: { kind: 'sqlite' } }, 'apps.everything.state.files'],
  ])('an app without %s is WVO_APP_INVALID naming the app and the field', (_what, app, field) => {
    expect(() => parseConfig({ apps: { everything: app } })).toThrow(
      expect.objectContaining({ code: 'WVO_APP_INVALID', subject: field, message: expect.stringContaining('app everything: ') }),
    );
  });

  it('an unknown app is WVO_APP_UNKNOWN listing the known ones', () => {
    expect(() => resolveApp(parseConfig({ apps: { everything } }), 'nope')).toThrow(expect.objectContaining({ code: 'WVO_APP_UNKNOWN', message: expect.stringContaining('worker, everything') }));
  });
});

describe('apps as the runtime runs them', () => {
  it('sets only the env vars the app names; a shadow env var is set on sandbox lanes', () => {
    const app = laneAppFrom('everything', parseConfig({ apps: { everything: { ...everything, shadow: { env: 'SHADOW' } } } }).apps.everything!, '/tmp');
    expect(appEnv(app, { port: 3001, host: '0.0.0.0', stateRoot: '/state', dryRun: false, sandbox: true }, { EXTRA: '1', PORT: 'x' })).toEqual({ EXTRA: '1', PORT: '3001', SHADOW: '1' });
    // Our worker keeps its contract variables.
    expect(appEnv(WORKER_APP, { port: 8080, host: '0.0.0.0', stateRoot: '/state', dryRun: true, sandbox: false })).toEqual({
      WVO_DRY_RUN: '1',
      WVO_SANDBOX: '0',
      WVO_STATE_ROOT: '/state',
      WVO_HOST: '0.0.0.0',
      WVO_PORT: '8080',
    });
  });

  it('a container of an app publishes its port and carries its health in labels', () => {
    const app = laneAppFrom('everything', parseConfig({ apps: { everything } }).apps.everything!, '/tmp');
    const create = containerCreateOptions(
      { name: 'blue', image: 'wvo-everything:a', stateDir: '/s', role: 'live', dryRun: false, app },
      { project: 'p', hostName: 'local', networkMode: 'bridge', network: 'n', publishIp: '127.0.0.1', stateDir: '/s', user: '1000:1000', resources: { memoryMb: 256, cpus: 1, pidsLimit: 64 }, stopTimeoutSeconds: 5 },
    );
    expect(create.ExposedPorts).toEqual({ '3001/tcp': {} });
    expect(create.HostConfig?.PortBindings).toEqual({ '3001/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
    expect(create.Env).toEqual(['PORT=3001']);
    expect(create.Labels).toMatchObject({ 'wvo.app': 'everything', 'wvo.app-port': '3001', 'wvo.health': 'mcp', 'wvo.mcp-path': '/mcp' });
  });
});
