import type { Command } from 'commander';
import { action } from '../output.js';
import { reportDeployment, withDeploy, type DeployCliFlags } from './promote.js';

interface RollbackFlags extends DeployCliFlags {
  reason?: string;
}

export function register(program: Command): void {
  program
    .command('rollback [id]')
    .description('roll a deployment back: flags reverted in reverse order, traffic back to the old lane, candidate stopped')
    .option('--reason <text>', 'why (recorded in promotion_plan.json)')
    .option('--runtime <kind>', 'auto | docker | local | swarm (default: from wvo.config.json, else auto)')
    .option('--config <file>', 'wvo.config.json to use')
    .option('--json', 'print the deployment and its transitions as JSON')
    .addHelpText('after', '\n<id> defaults to the running deployment, else the newest promoted one (within its retention window).')
    .action(
      action(async (id: string | undefined, flags: RollbackFlags) =>
        withDeploy(flags, 'rollback', async (deploy) => {
          const record = await deploy.operations.rollback({ ...(id ? { id } : {}), ...(flags.reason ? { reason: flags.reason } : {}) });
          return reportDeployment(flags, deploy, record, 'rollback');
        }),
      ),
    );
}
