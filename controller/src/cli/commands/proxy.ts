import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { createLogger } from '../../../../common/src/logger.js';
import { isWvoError } from '../../../../common/src/errors.js';
import { appHealthSpec, configErrors, loadConfig, resolveApp } from '../../config/index.js';
import { action } from '../output.js';
import {
  PROXY_DEFAULTS,
  ProxyError,
  parseDuration,
  parseLaneFlag,
  startProxy,
  type LaneSpec,
  type ProxyOptions,
  type SessionPolicy,
} from '../../proxy/index.js';

interface ProxyFlags {
  listen: string;
  admin: string;
  adminAnyHost?: boolean;
  tokenFile?: string;
  state?: string;
  drainTimeout: string;
  sessionPolicy: string;
  moveGrace: string;
  lane: LaneSpec[];
  active?: string;
  /** Unset: the `--app`'s health from config, else PROXY_DEFAULTS.health. */
  health?: string;
  app?: string;
  config?: string;
  healthInterval: string;
  connections: string;
}

async function readToken(flags: ProxyFlags): Promise<string> {
  if (flags.tokenFile) {
    try {
      return (await readFile(flags.tokenFile, 'utf8')).trim();
    } catch (error) {
      throw new ProxyError('WVO_PROXY_TOKEN_MISSING', `cannot read token file: ${(error as Error).message}`, {
        subject: '--token-file',
        exitCode: 2,
      });
    }
  }
  return process.env.WVO_PROXY_TOKEN?.trim() ?? '';
}

/** `--app NAME`: that app's health check from wvo.config.json (`apps.NAME.health`); unknown → WVO_APP_UNKNOWN naming --app. */
function appHealth(flags: ProxyFlags): string | undefined {
  if (!flags.app) return undefined;
  const { config } = loadConfig(flags.config ? { file: flags.config } : {});
  try {
    return appHealthSpec(resolveApp(config, flags.app).config);
  } catch (error) {
    if (!isWvoError(error) || error.code !== 'WVO_APP_UNKNOWN') throw error;
    throw configErrors.create('WVO_APP_UNKNOWN', `--app: ${error.message}`, { subject: '--app', ...(error.hint ? { hint: error.hint } : {}), cause: error });
  }
}

/** Flags → the same ProxyOptions `startProxy` takes from tests and the controller. */
export async function proxyOptionsFromFlags(flags: ProxyFlags): Promise<ProxyOptions> {
  return {
    listen: flags.listen,
    admin: flags.admin,
    adminAnyHost: Boolean(flags.adminAnyHost),
    token: await readToken(flags),
    ...(flags.state ? { statePath: flags.state } : {}),
    drainTimeoutMs: parseDuration(flags.drainTimeout, '--drain-timeout'),
    sessionPolicy: flags.sessionPolicy as SessionPolicy,
    moveGraceMs: parseDuration(flags.moveGrace, '--move-grace'),
    lanes: flags.lane,
    ...(flags.active ? { active: flags.active } : {}),
    health: flags.health ?? appHealth(flags) ?? PROXY_DEFAULTS.health,
    healthIntervalMs: parseDuration(flags.healthInterval, '--health-interval'),
    connectionsPerLane: Number(flags.connections),
  };
}

export function register(program: Command): void {
  program
    .command('proxy')
    .description('Run the session-aware MCP proxy (data plane) with its admin API')
    .option('--listen <addr>', 'data plane address host:port', PROXY_DEFAULTS.listen)
    .option('--admin <addr>', 'admin API: loopback host:port or unix:PATH', PROXY_DEFAULTS.admin)
    .option('--admin-any-host', 'allow the admin API on a non-loopback address (containers)')
    .option('--token-file <file>', 'file holding the admin bearer token (else env WVO_PROXY_TOKEN)')
    .option('--state <file>', 'route table file (kept across restarts)')
    .option('--drain-timeout <duration>', 'how long sessions stay on a lane after a switch', '30s')
    .option('--session-policy <policy>', 'at the drain deadline: move | expire', PROXY_DEFAULTS.sessionPolicy)
    .option('--move-grace <duration>', 'after the drain deadline, how long a session with work in flight may wait for a quiet moment', '30s')
    .option('--lane <name=url>', 'register a lane (repeatable)', (value: string, acc: LaneSpec[]) => [...acc, parseLaneFlag(value)], [])
    .option('--active <name>', 'active lane when the route table names none')
    .option('--health <spec>', `lane health check: /path (HTTP GET, 2xx), http:/path, mcp (initialize + ping + tools/list at /mcp) or mcp:/path (default: the --app's health, else ${PROXY_DEFAULTS.health})`)
    .option('--app <name>', "an app from wvo.config.json `apps`: its health check (apps.NAME.health, at its mcpPath) is the default of --health")
    .option('--config <file>', 'wvo.config.json to read --app from')
    .option('--health-interval <duration>', 'health check interval per lane', '1s')
    .option('--connections <n>', 'upstream keep-alive connections per lane', String(PROXY_DEFAULTS.connectionsPerLane))
    .action(
      action(async (flags: ProxyFlags) => {
        const logger = createLogger('wvo-proxy');
        const proxy = await startProxy({ ...(await proxyOptionsFromFlags(flags)), logger });
        // One JSON line on stdout, like the worker: tests and runtimes read ephemeral ports from it.
        process.stdout.write(`${JSON.stringify({ event: 'listening', url: proxy.url, admin: proxy.adminUrl, active: proxy.service.active })}\n`);
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            logger.info({ signal }, 'stopping proxy');
            void proxy.close().finally(resolve);
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
      }),
    );
}
