import { Command, InvalidArgumentError } from 'commander';
import { formatError, isWvoError, toErrorJson } from '../../common/src/errors.js';
import { createLogger } from '../../common/src/logger.js';
import { WorkerError } from './errors.js';
import { seedState } from './seed/seed.js';
import { migrateStateRoot } from './store/migrate-state-root.js';
import { parseFlagOverrides } from './store/settings.js';
import { workerVersion } from './version.js';
import { startWorker } from './worker.js';

function integer(name: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be an integer`);
    return Number(value);
  };
}

function envPort(): number | undefined {
  const raw = process.env.WVO_PORT;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) {
    throw new WorkerError('WVO_WORKER_OPTIONS_INVALID', `WVO_PORT must be an integer, got ${raw}`, { subject: 'WVO_PORT', exitCode: 2 });
  }
  return Number(raw);
}

/** WVO_JOURNAL_RETAIN (journal entries kept, 0 = all); the bench alone turns journaling off (WVO_BENCH_NO_JOURNAL=1). */
function envJournal(): { journalRetain?: number; journal?: boolean } {
  const raw = process.env.WVO_JOURNAL_RETAIN;
  if (raw !== undefined && raw !== '' && !/^\d+$/.test(raw)) {
    throw new WorkerError('WVO_WORKER_OPTIONS_INVALID', `WVO_JOURNAL_RETAIN must be an integer >= 0, got ${raw}`, {
      subject: 'WVO_JOURNAL_RETAIN',
      hint: 'The number of newest journal entries to keep; 0 keeps all.',
      exitCode: 2,
    });
  }
  return {
    ...(raw === undefined || raw === '' ? {} : { journalRetain: Number(raw) }),
    ...(process.env.WVO_BENCH_NO_JOURNAL === '1' ? { journal: false } : {}),
  };
}

function envFlags() {
  const parsed = parseFlagOverrides(process.env.WVO_FLAGS);
  if ('error' in parsed) {
    throw new WorkerError('WVO_WORKER_OPTIONS_INVALID', `WVO_FLAGS entry ${JSON.stringify(parsed.error)} is not NAME=value`, {
      subject: 'WVO_FLAGS',
      hint: 'Example: PROMPT_MODE=compact,SANDBOX_MODE=strict,SELECTIVE_TESTS=on',
      exitCode: 2,
    });
  }
  return parsed.flags;
}

function fail(error: unknown, json = false): never {
  if (json) process.stderr.write(`${JSON.stringify({ ok: false, error: toErrorJson(error) })}\n`);
  else process.stderr.write(`${formatError(error)}\n`);
  process.exit(isWvoError(error) ? error.exitCode : 1);
}

async function serve(options: { port?: number; host?: string; state?: string; dryRun?: boolean; sandbox?: boolean; buildId?: string }) {
  const logger = createLogger('wvo-worker');
  const handle = await startWorker({
    stateRoot: options.state ?? process.env.WVO_STATE_ROOT ?? './state',
    port: options.port ?? envPort() ?? 8080,
    host: options.host ?? process.env.WVO_HOST ?? '127.0.0.1',
    dryRun: options.dryRun ?? process.env.WVO_DRY_RUN === '1',
    sandbox: options.sandbox ?? process.env.WVO_SANDBOX === '1',
    buildId: options.buildId ?? process.env.WVO_BUILD_ID ?? 'dev',
    flags: envFlags(),
    ...envJournal(),
    logger,
  });
  // The one line on stdout: the local runtime reads the (possibly ephemeral) port from it.
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: handle.port, url: handle.url })}\n`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    handle.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

const program = new Command('wvo-worker')
  .description('WVO worker: a small MCP orchestrator on SQLite (Streamable HTTP at /mcp)')
  .version(workerVersion())
  .showHelpAfterError()
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

program
  .command('serve')
  .description('Serve MCP over HTTP (env: WVO_STATE_ROOT, WVO_PORT, WVO_HOST, WVO_DRY_RUN, WVO_SANDBOX, WVO_BUILD_ID, WVO_FLAGS, WVO_JOURNAL_RETAIN, WVO_ADMIN_TOKEN)')
  .option('--port <n>', 'port (0 = ephemeral; default WVO_PORT or 8080)', integer('--port'))
  .option('--host <host>', 'interface to bind (default WVO_HOST or 127.0.0.1)')
  .option('--state <dir>', 'state root (default WVO_STATE_ROOT or ./state)')
  .option('--dry-run', 'roll back every tool call and spawn nothing (same as WVO_DRY_RUN=1)')
  .option('--sandbox', 'on a private state copy: commit calls, replay recorded executor runs, spawn nothing (same as WVO_SANDBOX=1)')
  .option('--build-id <id>', 'build id shown by /version (default WVO_BUILD_ID)')
  .action((options) => serve(options).catch((error: unknown) => fail(error)));

program
  .command('seed')
  .description('Create a realistic, deterministic state database (tasks, dependency chains, critics, history)')
  .requiredOption('--state <dir>', 'state root to create orchestrator.db in')
  .option('--tasks <n>', 'number of tasks', integer('--tasks'), 500)
  .option('--seed <n>', 'random seed', integer('--seed'), 42)
  .option('--force', 'replace an existing database')
  .option('--unrecorded <n>', 'leave the last N distinct task commands without an executor record (coverage-gap fixtures; default 0)', integer('--unrecorded'), 0)
  .action((options: { state: string; tasks: number; seed: number; force?: boolean; unrecorded: number }) => {
    try {
      const summary = seedState({ stateRoot: options.state, tasks: options.tasks, seed: options.seed, force: options.force ?? false, unrecordedRuns: options.unrecorded });
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } catch (error) {
      fail(error);
    }
  });

program
  .command('migrate')
  .description('Apply pending schema migrations to the state database')
  .requiredOption('--state <dir>', 'state root holding orchestrator.db')
  .action((options: { state: string }) => {
    try {
      process.stdout.write(`${JSON.stringify(migrateStateRoot(options.state))}\n`);
    } catch (error) {
      fail(error);
    }
  });

await program.parseAsync(process.argv);
