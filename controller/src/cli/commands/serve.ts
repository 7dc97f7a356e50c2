import type { Command } from 'commander';
import { FleetControl } from '../../fleet/index.js';
import { parseServeOptions, readControllerToken, startController, type ServeOptionsInput } from '../../api/index.js';
import { controllerContextFromConfig } from '../../operations/index.js';
import { openCliContext, type RuntimeFlags } from '../context.js';
import { action } from '../output.js';

interface ServeFlags extends RuntimeFlags {
  listen: string;
  tokenFile?: string;
  insecureNoToken?: boolean;
  bodyLimit: string;
  /** commander's `--no-reconcile`: false when given. */
  reconcile: boolean;
}

/** Flags → the same ServeOptions `startController` takes from tests. */
export async function serveOptionsFromFlags(flags: ServeFlags): Promise<ServeOptionsInput> {
  const token = await readControllerToken(flags.tokenFile);
  return {
    listen: flags.listen,
    ...(token ? { token } : {}),
    insecureNoToken: Boolean(flags.insecureNoToken),
    bodyLimitBytes: Number(flags.bodyLimit),
    ...(flags.reconcile === false ? { reconcileMs: 0 } : {}),
  };
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('run the controller HTTP API (lanes, upgrades, deployments, events) with a bearer token')
    .option('--listen <addr>', 'host:port to listen on (loopback by default)', '127.0.0.1:7070')
    .option('--token-file <file>', 'file holding the bearer token (else env WVO_CONTROLLER_TOKEN)')
    .option('--insecure-no-token', 'run without a token (refused unless --listen is loopback)')
    .option('--body-limit <bytes>', 'largest request body accepted', String(256 * 1024))
    .option('--no-reconcile', 'do not, by itself, resume a deployment or fleet promotion whose controller died, or stop/remove old lanes whose keep-warm/retention window ended (default: every 5 s)')
    .option('--runtime <kind>', 'auto | docker | local | swarm (default: from wvo.config.json, else auto)')
    .option('--config <file>', 'wvo.config.json to use')
    .addHelpText(
      'after',
      '\nRoutes: GET /healthz (no token) /metrics /status /lanes /upgrades/:id /deployments /deployments/:id /events (SSE);\n' +
        '        POST /upgrades /deployments/:id/promote /deployments/:id/rollback;\n' +
        '        fleet: GET /fleets /fleets/status /fleets/:id, POST /fleets (body: promote --fleet options) /fleets/:id/resume.\n' +
        'Prints {"event":"listening","url":...} on stdout when ready; SIGTERM/SIGINT stop it.',
    )
    .action(
      action(async (flags: ServeFlags) => {
        // Options first: a missing token is refused before any runtime is opened.
        const options = await serveOptionsFromFlags(flags);
        parseServeOptions(options);
        const context = await openCliContext(flags, 'wvo-serve');
        // Promotion needs the proxy admin API; without its token promote/rollback answer 501.
        const wiring = await controllerContextFromConfig({
          config: context.loaded.config,
          projectRoot: context.projectRoot,
          stateRoot: context.stateRoot,
          runtime: context.runtime,
          images: context.images,
          logger: context.logger,
        });
        // The fleet (config `fleet`) is opened when a /fleets route is first called, and closed with the controller.
        let fleet: FleetControl | undefined;
        try {
          const fleetOf = context.loaded.config.fleet ? () => (fleet ??= new FleetControl({ config: context.loaded.config, projectRoot: context.projectRoot, stateRoot: context.stateRoot, logger: context.logger })) : undefined;
          const controller = await startController(options, wiring.context, fleetOf ? { fleet: fleetOf } : {});
          context.logger.info({ runtime: context.chosen }, context.reason);
          process.stdout.write(`${JSON.stringify({ event: 'listening', url: controller.url, runtime: context.chosen })}\n`);
          await new Promise<void>((resolve) => {
            const stop = (signal: string) => {
              context.logger.info({ signal }, 'stopping controller API');
              void controller.close().finally(resolve);
            };
            process.once('SIGTERM', () => stop('SIGTERM'));
            process.once('SIGINT', () => stop('SIGINT'));
          });
        } finally {
          fleet?.close();
          await wiring.close();
          await context.runtime.close();
        }
      }),
    );
}
