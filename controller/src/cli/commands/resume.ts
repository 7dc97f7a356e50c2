import type { Command } from 'commander';
import { action } from '../output.js';
import { reportDeployment, withDeploy, type DeployCliFlags } from './promote.js';

export function register(program: Command): void {
  program
    .command('resume [id]')
    .description('finish or roll back a deployment whose controller died (decided by the state it was left in)')
    .option('--runtime <kind>', 'auto | docker | local | swarm (default: from wvo.config.json, else auto)')
    .option('--config <file>', 'wvo.config.json to use')
    .option('--json', 'print the deployment and its transitions as JSON')
    .addHelpText(
      'after',
      '\ncanary_live / switched → roll back; observing → continue (or roll back with --resume-observing rollback at promote);\n' +
        'rolling_back → finish rolling back; promoted → re-assert the old lane stopped.',
    )
    .action(
      action(async (id: string | undefined, flags: DeployCliFlags) =>
        withDeploy(flags, 'resume', async (deploy) => {
          const record = await deploy.operations.resume(id ? { id } : {});
          return reportDeployment(flags, deploy, record, 'resume');
        }),
      ),
    );
}
