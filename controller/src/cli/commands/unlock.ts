import type { Command } from 'commander';
import { clearLock } from '../../harness/index.js';
import { action, printResult, type OutputOptions } from '../output.js';

interface UnlockCliOptions extends OutputOptions {
  state: string;
  force?: boolean;
}

export function register(program: Command): void {
  program
    .command('unlock')
    .description('Remove a stale upgrade lock (state/upgrade.lock); a live one only with --force.')
    .option('--state <dir>', 'state directory', process.env.WVO_STATE_ROOT ?? './state')
    .option('--force', 'remove the lock even if its owner looks alive')
    .option('--json', 'print the result as JSON')
    .action(
      action((options: UnlockCliOptions) => {
        const status = clearLock(options.state, { force: Boolean(options.force) });
        const removed = status.state !== 'free';
        printResult(options, { ok: true, removed, ...status }, () => {
          if (!removed) return `no upgrade lock at ${status.path}`;
          const owner = 'owner' in status && status.owner ? ` (run ${status.owner.id}, pid ${status.owner.pid} on ${status.owner.host})` : '';
          const why = status.state === 'stale' ? `stale: ${status.reason}` : 'live, removed with --force';
          return `removed ${status.path}${owner}: ${why}`;
        });
      }),
    );
}
