import { ProxyAdminClient, startProxy, type RunningProxy } from '../../controller/src/proxy/index.js';

/** The token every rig's proxy admin API takes. */
export const PROXY_TOKEN = 'deploy-proxy-token-0123456789';

/**
 * A real proxy on port 0 in front of a live lane `blue` (health checked every 100 ms) and its
 * admin client, as the deploy, app and fleet rigs start them; both are closed by `cleanups`
 * (run in reverse order by the rig).
 */
export async function startBlueProxy(options: {
  statePath: string;
  blueUrl: string;
  health?: string;
  drainTimeoutMs?: number;
  cleanups: Array<() => unknown>;
}): Promise<{ proxy: RunningProxy; admin: ProxyAdminClient }> {
  const proxy = await startProxy({
    listen: '127.0.0.1:0',
    admin: '127.0.0.1:0',
    token: PROXY_TOKEN,
    statePath: options.statePath,
    lanes: [{ name: 'blue', url: options.blueUrl, ...(options.health ? { health: options.health } : {}) }],
    active: 'blue',
    healthIntervalMs: 100,
    drainTimeoutMs: options.drainTimeoutMs ?? 500,
  });
  options.cleanups.push(() => proxy.close());
  const admin = new ProxyAdminClient({ url: proxy.adminUrl, token: PROXY_TOKEN });
  options.cleanups.push(() => admin.close());
  return { proxy, admin };
}
