import { DEFAULT_APP, WORKER_APP_CONFIG, type AppConfig } from './app-schema.js';
import { configErrors } from './errors.js';
import type { WvoConfig } from './schema.js';

export interface ResolvedApp {
  readonly name: string;
  readonly config: AppConfig;
  /** Our worker: built from the workspace, shadows by WVO_SANDBOX / WVO_DRY_RUN. */
  readonly builtIn: boolean;
}

/** The app `name` from config (`worker`, our own, unless config redefines it). */
export function resolveApp(config: Pick<WvoConfig, 'apps'>, name: string = DEFAULT_APP): ResolvedApp {
  const found = config.apps[name];
  if (found) return { name, config: found, builtIn: false };
  if (name === DEFAULT_APP) return { name, config: WORKER_APP_CONFIG, builtIn: true };
  const known = [DEFAULT_APP, ...Object.keys(config.apps)].join(', ');
  throw configErrors.create('WVO_APP_UNKNOWN', `no app named "${name}" (known: ${known})`, {
    subject: `apps.${name}`,
    hint: 'Define it under "apps" in wvo.config.json (port, mcpPath, and an image or a command).',
  });
}

/** The proxy's health spec for an app: its `health`, with `mcp` checked at the app's own MCP path. */
export function appHealthSpec(app: Pick<AppConfig, 'health' | 'mcpPath'>): string {
  return app.health === 'mcp' && app.mcpPath !== '/mcp' ? `mcp:${app.mcpPath}` : app.health;
}
