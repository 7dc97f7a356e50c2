import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { WvoConfig } from '../config/index.js';
import { ProxyAdminClient } from '../proxy/index.js';
import { operationsErrors } from './errors.js';

export const PROXY_TOKEN_ENV = 'WVO_PROXY_TOKEN';

/** `127.0.0.1:8081` → `http://127.0.0.1:8081`; `unix:/path` and URLs unchanged. */
export function adminUrl(value: string): string {
  return value.startsWith('unix:') || /^https?:\/\//.test(value) ? value : `http://${value}`;
}

/**
 * The proxy admin client from config `proxy` (`admin`, `tokenFile` relative to the config's
 * directory), the token else from env WVO_PROXY_TOKEN. No token → WVO_DEPLOY_PROXY_TOKEN_MISSING.
 */
export async function connectProxyAdmin(config: WvoConfig, baseDir: string, env: NodeJS.ProcessEnv = process.env): Promise<ProxyAdminClient> {
  let token = env[PROXY_TOKEN_ENV]?.trim() ?? '';
  if (config.proxy.tokenFile) {
    const file = resolve(baseDir, config.proxy.tokenFile);
    try {
      token = (await readFile(file, 'utf8')).trim();
    } catch (error) {
      throw operationsErrors.create('WVO_DEPLOY_PROXY_TOKEN_MISSING', `cannot read the proxy token file ${file}: ${(error as Error).message}`, {
        subject: 'proxy.tokenFile',
        hint: 'point proxy.tokenFile in wvo.config.json at the file `wvo proxy --token-file` reads',
      });
    }
  }
  if (!token) {
    throw operationsErrors.create('WVO_DEPLOY_PROXY_TOKEN_MISSING', 'no proxy admin token: promotion switches lanes through the proxy admin API', {
      subject: 'proxy.tokenFile',
      hint: `set ${PROXY_TOKEN_ENV} or proxy.tokenFile in wvo.config.json (the token \`wvo proxy\` was started with)`,
    });
  }
  return new ProxyAdminClient({ url: adminUrl(config.proxy.admin), token });
}
