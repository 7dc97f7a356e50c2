import type { Command } from 'commander';
import { collectStatus, connectProxyAdmin } from '../../operations/index.js';
import { openCliContext, type RuntimeFlags } from '../context.js';
import { action, printResult } from '../output.js';
import { renderStatus } from '../status-view.js';
import { openFleetControl, renderFleetStatus } from '../fleet-view.js';

interface StatusFlags extends RuntimeFlags {
  json?: boolean;
  fleet?: boolean;
}

export function register(program: Command): void {
  program
    .command('status')
    .description('lanes, the active lane and version, the running deployment and its step, the last shadow diff count')
    .option('--json', 'print the status as JSON')
    .option('--fleet', 'a table of the fleet\'s deployments: where, serving lane and version, state in the newest fleet promotion')
    .option('--runtime <kind>', 'auto | docker | local | swarm (default: from wvo.config.json, else auto)')
    .option('--config <file>', 'wvo.config.json to use')
    .addHelpText('after', '\nReads state files and the runtime directly: no running `wvo serve` needed (GET /status answers the same).')
    .action(
      action(async (flags: StatusFlags) => {
        if (flags.fleet) {
          const fleet = openFleetControl(flags, 'status');
          try {
            const status = await fleet.status();
            printResult(flags, { ok: true, ...status }, () => renderFleetStatus(status));
          } finally {
            fleet.close();
          }
          return;
        }
        const context = await openCliContext(flags, 'wvo-status');
        // A proxy is configured when its admin token is (env or proxy.tokenFile); without one the runtime's live lane says.
        const proxy = await connectProxyAdmin(context.loaded.config, context.projectRoot).catch(() => undefined);
        try {
          const status = await collectStatus({ stateRoot: context.stateRoot, runtime: context.runtime, ...(proxy ? { proxy } : {}) });
          printResult(flags, { ok: true, ...status }, () => renderStatus(status));
        } finally {
          await proxy?.close();
          await context.runtime.close();
        }
      }),
    );
}
