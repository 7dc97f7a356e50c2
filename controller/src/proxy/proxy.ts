import { createServer, type Server } from 'node:http';
import { unlink } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../../../common/src/clock.js';
import { silentLogger } from '../../../common/src/logger.js';
import { buildAdminApi } from './admin-api.js';
import { ProxyError } from './errors.js';
import { ProxyMetrics } from './metrics.js';
import { isLoopbackHost, parseListenAddress, resolveProxyOptions, type ProxyOptions } from './options.js';
import { Router } from './router.js';
import { Service } from './service.js';
import { SessionMover } from './session-mover.js';
import { SessionStore } from './session-store.js';
import { SessionTable } from './session-table.js';

export interface RunningProxy {
  /** Data plane base URL, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** Admin API: http://127.0.0.1:8081 or unix:/path/admin.sock. */
  readonly adminUrl: string;
  readonly service: Service;
  readonly sessions: SessionTable;
  readonly metrics: ProxyMetrics;
  close(): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function urlFor(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** Start the session-aware proxy: data plane, admin API, health checks, route table. */
export async function startProxy(input: ProxyOptions): Promise<RunningProxy> {
  const logger = input.logger ?? silentLogger();
  const options = resolveProxyOptions(input, logger, input.clock ?? systemClock);
  const dataAddress = parseListenAddress(options.listen, '--listen', false);
  const adminAddress = parseListenAddress(options.admin, '--admin', true);
  if (adminAddress.kind === 'tcp' && !isLoopbackHost(adminAddress.host) && !options.adminAnyHost) {
    throw new ProxyError('WVO_PROXY_ADMIN_NOT_LOOPBACK', `admin address ${options.admin} is not loopback`, {
      subject: '--admin',
      hint: 'use 127.0.0.1:PORT or unix:/path (or --admin-any-host inside a container network)',
      exitCode: 2,
    });
  }

  const sessions = new SessionTable();
  let router: Router | undefined;
  const service = new Service({
    target: { connections: options.connectionsPerLane, headersTimeoutMs: options.headersTimeoutMs, bodyTimeoutMs: options.bodyTimeoutMs },
    health: { spec: options.health, intervalMs: options.healthIntervalMs, timeoutMs: options.healthTimeoutMs },
    statePath: options.statePath,
    drainTimeoutMs: options.drainTimeoutMs,
    clock: options.clock,
    random: options.random,
    logger,
    onRetire: (lane) => router?.retire(lane),
  });
  const metrics = new ProxyMetrics({
    lanes: () => {
      const counts = sessions.countByLane();
      return service.lanes().map((l) => ({
        name: l.name,
        healthy: l.healthy,
        active: l.role === 'active',
        weight: l.weight ?? 0,
        sessions: counts.get(l.name) ?? 0,
        inflight: l.inflight,
      }));
    },
  });
  service.metrics = metrics;
  const mover = new SessionMover(sessions, { timeoutMs: Math.min(options.headersTimeoutMs, 10_000), logger, metrics });
  router = new Router(service, sessions, mover, metrics, options);

  const dataServer = createServer({ noDelay: true, keepAlive: true }, router.handle);
  dataServer.keepAliveTimeout = 65_000;
  const admin = buildAdminApi({ token: options.token, service, sessions, metrics, drainTimeoutMs: options.drainTimeoutMs });
  const sweep = setInterval(() => sessions.sweepIdle(options.clock.now(), options.sessionIdleTtlMs), 60_000);
  sweep.unref();

  // Sessions are persisted beside the route table, so a restarted proxy can still move them.
  const store = options.statePath ? new SessionStore(`${options.statePath.replace(/\.json$/, '')}.sessions.json`, sessions, logger) : undefined;
  try {
    await service.init(options.lanes, options.active);
    if (store) {
      const restored = await store.load((name) => service.target(name) !== undefined, options.clock.now());
      if (restored > 0) logger.info({ restored }, 'sessions restored');
      sessions.onChange = () => store.changed();
    }
    if (dataAddress.kind !== 'tcp') throw new ProxyError('WVO_PROXY_ADDRESS_INVALID', 'data plane needs host:port', { subject: '--listen' });
    const dataInfo = await listen(dataServer, dataAddress.host, dataAddress.port);
    let adminUrl: string;
    if (adminAddress.kind === 'unix') {
      await unlink(adminAddress.path).catch(() => undefined);
      await admin.listen({ path: adminAddress.path });
      adminUrl = `unix:${adminAddress.path}`;
    } else {
      await admin.listen({ host: adminAddress.host, port: adminAddress.port });
      adminUrl = urlFor(admin.server.address() as AddressInfo);
    }
    const url = urlFor(dataInfo);
    logger.info({ url, adminUrl, active: service.active, policy: options.sessionPolicy }, 'proxy listening');
    let closing: Promise<void> | undefined;
    return {
      url,
      adminUrl,
      service,
      sessions,
      metrics,
      close: () =>
        (closing ??= (async () => {
          clearInterval(sweep);
          const closed = new Promise<void>((resolve) => dataServer.close(() => resolve()));
          dataServer.closeAllConnections();
          await Promise.all([closed, admin.close(), service.close(), store?.flush()]);
        })()),
    };
  } catch (error) {
    clearInterval(sweep);
    dataServer.closeAllConnections();
    dataServer.close();
    await admin.close().catch(() => undefined);
    await service.close();
    throw error;
  }
}
