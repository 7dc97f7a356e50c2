import { resolve } from 'node:path';
import type { AppConfig } from '../config/index.js';

/**
 * What a lane runs, as the runtime needs to know it: the port the server listens on, where MCP
 * is served, how its health is checked, which environment variables tell it its port, state and
 * shadow mode, and (local runtime) the command that starts it. Our worker is one such app, the
 * default (WORKER_APP); any MCP Streamable HTTP server is another, described in wvo.config.json.
 */
export interface LaneApp {
  /** The app's name in config (`worker` for ours); a label on the lane. */
  readonly name: string;
  /** The port the server listens on inside its container (docker); local lanes get a free one. */
  readonly port: number;
  readonly mcpPath: string;
  /** `/path` (HTTP GET, 2xx = ready), `mcp` or `mcp:/path` (initialize + ping + tools/list). */
  readonly health: string;
  /** Environment variable names the app reads; an absent name is not set. */
  readonly env: {
    readonly port?: string;
    readonly host?: string;
    readonly stateRoot?: string;
    /** Set to 1 on a strict DRY_RUN lane. */
    readonly dryRun?: string;
    /** Set to 1 on a sandbox (shadow) lane. */
    readonly sandbox?: string;
  };
  /** Where the lane's state directory is mounted in its container. */
  readonly stateMount: string;
  /**
   * Local runtime: the argv that starts the server (`{image}` is replaced by the lane's image, so
   * two versions are two image names); absent = our worker's `dist/worker/src/main.js serve`.
   */
  readonly command?: readonly string[];
  /** Working directory of `command` (default the process's). */
  readonly cwd?: string;
}

export const WORKER_APP: LaneApp = {
  name: 'worker',
  port: 8080,
  mcpPath: '/mcp',
  health: '/readyz',
  env: { port: 'WVO_PORT', host: 'WVO_HOST', stateRoot: 'WVO_STATE_ROOT', dryRun: 'WVO_DRY_RUN', sandbox: 'WVO_SANDBOX' },
  stateMount: '/state',
};

/** Pure: the environment the runtime sets for a lane (the app's contract variables win over `extra`). */
export function appEnv(
  app: LaneApp,
  values: { port: number; host: string; stateRoot: string; dryRun: boolean; sandbox: boolean },
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = { ...extra };
  const set = (name: string | undefined, value: string) => {
    if (name) env[name] = value;
  };
  set(app.env.dryRun, values.dryRun ? '1' : '0');
  set(app.env.sandbox, values.sandbox ? '1' : '0');
  set(app.env.stateRoot, values.stateRoot);
  set(app.env.host, values.host);
  set(app.env.port, String(values.port));
  return env;
}

/** Pure: a local command app's argv for one image (`{image}` replaced). */
export function appCommand(app: LaneApp, image: string): string[] | undefined {
  return app.command?.map((arg) => arg.replaceAll('{image}', image));
}

/**
 * Pure: an app from wvo.config.json as the runtime runs it. The app's shadow env var (if any) is
 * what a sandbox lane sets to 1; `cwd` is resolved against the config's directory.
 */
export function laneAppFrom(name: string, config: AppConfig, baseDir: string): LaneApp {
  const env = { ...config.env, ...(config.shadow ? { sandbox: config.shadow.env } : {}) };
  return {
    name,
    port: config.port,
    mcpPath: config.mcpPath,
    health: config.health,
    env,
    stateMount: config.state.kind === 'none' ? '/state' : config.state.mount,
    ...(config.command ? { command: config.command } : {}),
    cwd: resolve(baseDir, config.cwd ?? '.'),
  };
}
