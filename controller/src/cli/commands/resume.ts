import type { Command } from 'commander';
import { action, printResult } from '../output.js';
import { openFleetControl, renderFleetRecord } from '../fleet-view.js';
import { reportDeployment, withDeploy, type DeployCliFlags } from './promote.js';

async function resumeFleet(id: string | undefined, flags: DeployCliFlags): Promise<number> {
  const fleet = openFleetControl(flags, 'resume');
  try {
    const record = await fleet.runner.resume(id);
    if (!record) {
      printResult(flags, { ok: true, fleet: null, message: 'no running fleet promotion' }, () => '[resume] no running fleet promotion: nothing to do');
      return 0;
    }
    printResult(flags, { ok: record.state === 'promoted', fleet: record }, () => renderFleetRecord(record));
    return record.state === 'promoted' ? 0 : 1;
  } finally {
    fleet.close();
  }
}

export function register(program: Command): void {
  program
    .command('resume [id]')
    .description('finish or roll back a deployment whose controller died (decided by the state it was left in)')
    .option('--runtime <kind>', 'auto | docker | local | swarm (default: from wvo.config.json, else auto)')
    .option('--config <file>', 'wvo.config.json to use')
    .option('--fleet', 'resume the running fleet promotion (or fleet <id>) whose controller died: its deployments, then the waves left')
    .option('--json', 'print the deployment and its transitions as JSON')
    .addHelpText(
      'after',
      '\ncanary_live / switched → roll back; observing → continue (or roll back with --resume-observing rollback at promote);\n' +
        'rolling_back → finish rolling back; promoted → re-assert the old lane stopped.',
    )
    .action(
      action(async (id: string | undefined, flags: DeployCliFlags & { fleet?: boolean }) =>
        flags.fleet ? resumeFleet(id, flags) : withDeploy(flags, 'resume', async (deploy) => {
          const record = await deploy.operations.resume(id ? { id } : {});
          return reportDeployment(flags, deploy, record, 'resume');
        }),
      ),
    );
}
