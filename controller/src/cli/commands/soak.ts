import type { Command } from 'commander';
import { openSoak } from '../../operations/index.js';
import { soakSummaryLine, type SoakRecord } from '../../soak/index.js';
import { openCliContext, type RuntimeFlags } from '../context.js';
import { action, printResult } from '../output.js';

interface SoakFlags extends RuntimeFlags {
  json?: boolean;
  for?: string;
  checkpointCalls?: string;
  checkpointEvery?: string;
  maxLag?: string;
  forkTimeout?: string;
}

async function withSoak<T>(flags: SoakFlags, body: (soak: ReturnType<typeof openSoak>, say: (line: string) => void) => Promise<T>): Promise<T> {
  const cli = await openCliContext(flags, 'wvo-soak');
  const say = (line: string) => {
    if (!flags.json) process.stderr.write(`[soak] ${line}\n`);
  };
  const soak = openSoak({
    config: cli.loaded.config,
    projectRoot: cli.projectRoot,
    stateRoot: cli.stateRoot,
    runtime: cli.runtime,
    logger: cli.logger,
    onProgress: (record, what) => {
      if (what !== 'progress') say(`${what}: ${soakSummaryLine(record)}`);
    },
  });
  try {
    return await body(soak, say);
  } finally {
    soak.close();
    await cli.runtime.close();
  }
}

/** 0 clean, 2 differences found (like `wvo upgrade`'s warnings), 1 failed. */
function exitCode(record: SoakRecord): number {
  if (record.state === 'failed') return 1;
  return record.answer_diffs > 0 || record.state_diffs > 0 ? 2 : 0;
}

export function register(program: Command): void {
  const soak = program.command('soak').description('dual-write soak: replay the live journal to a baseline replica and the candidate on forks, in parity');
  const common = (command: Command) =>
    command
      .option('--json', 'print the soak record as JSON')
      .option('--runtime <kind>', 'auto | docker | local (default: from wvo.config.json, else auto)')
      .option('--config <file>', 'wvo.config.json to use');

  common(
    soak
      .command('start [upgrade]')
      .description('fork the live state at a journal seq and replay the live journal to both lanes until --for ends, `wvo soak stop`, or Ctrl-C')
      .option('--for <duration>', 'how long to soak (72h, 30m, 20s; default: until stopped)')
      .option('--checkpoint-calls <n>', 'parity checkpoint every N replayed calls', '500')
      .option('--checkpoint-every <duration>', 'parity checkpoint at least this often', '60s')
      .option('--max-lag <n>', 'fail when more than N calls behind the live journal', '10000')
      .option('--fork-timeout <duration>', 'how long the fork may wait for a moment with no live call open', '30s')
      .addHelpText(
        'after',
        '\n<upgrade> is the staged upgrade whose candidate image soaks (default: the newest); its baseline lane is the live lane.\n' +
          'Needs WVO_ADMIN_TOKEN (the lanes\' journal and flag endpoints). Runs in the foreground; a soak left running by a\n' +
          'dead driver is resumed by the next `wvo soak start` (or by `wvo serve`). Exit 0 clean, 2 differences, 1 failed.',
      ),
  ).action(
    action(async (upgrade: string | undefined, flags: SoakFlags) =>
      withSoak(flags, async (wiring, say) => {
        const { record, resumed } = await wiring.operations.begin({
          ...(upgrade ? { upgradeId: upgrade } : {}),
          ...(flags.for ? { for: flags.for } : {}),
          ...(flags.checkpointCalls ? { checkpointCalls: flags.checkpointCalls } : {}),
          ...(flags.checkpointEvery ? { checkpointEvery: flags.checkpointEvery } : {}),
          ...(flags.maxLag ? { maxLag: flags.maxLag } : {}),
          ...(flags.forkTimeout ? { forkTimeout: flags.forkTimeout } : {}),
        });
        say(`${resumed ? 'resuming' : 'forked'} soak ${record.id} at seq ${resumed ? record.last_seq : record.fork_seq} (live ${record.live_lane}, candidate ${record.candidate_image})`);
        // Ctrl-C stops it cleanly (a last checkpoint, lanes removed); a killed driver leaves it to be resumed.
        const stop = () => wiring.store.requestStop(record.id);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          const ended = await wiring.operations.drive(record.id);
          printResult(flags, { ok: ended.state !== 'failed', soak: ended }, () => soakSummaryLine(ended));
          return exitCode(ended);
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      }),
    ),
  );

  common(soak.command('status [id]').description('the running soak (else the newest, or <id>): progress, lag, differences, checkpoints')).action(
    action(async (id: string | undefined, flags: SoakFlags) =>
      withSoak(flags, async (wiring) => {
        const status = wiring.operations.status(id);
        printResult(flags, { ok: true, ...status }, () => {
          if (!status.soak) return 'no soak recorded';
          const groups = status.answer_groups.filter((g) => g.reported).map((g) => `  answer  ${g.tool} ${g.path} (${g.kind}, ${g.calls.length} call(s))`);
          return [soakSummaryLine(status.soak), ...groups].join('\n');
        });
      }),
    ),
  );

  common(soak.command('stop [id]').description('stop the running soak (a last checkpoint, lanes removed; the record and its differences are kept)')).action(
    action(async (id: string | undefined, flags: SoakFlags) =>
      withSoak(flags, async (wiring) => {
        const stopped = await wiring.operations.stop(id);
        printResult(flags, { ok: true, soak: stopped }, () => soakSummaryLine(stopped));
      }),
    ),
  );
}
