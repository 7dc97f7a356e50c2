import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../common/src/clock.js';
import { silentLogger, type Logger } from '../../common/src/logger.js';
import { WorkerError } from './errors.js';
import type { AllowList } from './executor/allow-list.js';
import { Executor } from './executor/executor.js';
import { CallLedgers, DEFAULT_JOURNAL_RETAIN } from './journal/call-ledgers.js';
import { LogicalClock, logicalStart } from './journal/logical-clock.js';
import { createMcpServer, InFlight } from './mcp-server.js';
import { WorkerMetrics } from './metrics.js';
import { resolveWorkerMode } from './mode.js';
import { OperationsManager } from './operations/operations-manager.js';
import { buildServer, OpenRequests } from './server.js';
import { SessionTable } from './sessions.js';
import type { Migration } from './store/migrations/index.js';
import type { Flags } from './store/settings.js';
import { storeRunJournal } from './store/executor-runs.js';
import { Store } from './store/store.js';
import { ToolContext } from './tools/tool.js';
import { workerVersion } from './version.js';

export interface WorkerOptions {
  /** Directory holding orchestrator.db and analytics/ (WVO_STATE_ROOT). */
  readonly stateRoot: string;
  /** Default 8080; 0 picks a free port (read it from the handle). */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** WVO_DRY_RUN: every tool call rolled back, nothing spawned, the database file never written. */
  readonly dryRun?: boolean;
  /**
   * WVO_SANDBOX: the state root is a private snapshot copy; calls commit to it and the executor
   * replays recorded runs instead of spawning. Together with dryRun: WVO_WORKER_MODE_CONFLICT.
   */
  readonly sandbox?: boolean;
  readonly logger?: Logger;
  /** Shown by /version (WVO_BUILD_ID). */
  readonly buildId?: string;
  /** Flag overrides that beat the settings table (WVO_FLAGS). */
  readonly flags?: Partial<Flags>;
  readonly clock?: Clock;
  /** Working directory for task commands when SANDBOX_MODE=off (default: process cwd). */
  readonly workdir?: string;
  readonly allowList?: AllowList;
  /** How long shutdown waits for in-flight calls before closing anyway (default 25 s). */
  readonly drainTimeoutMs?: number;
  /** Sessions idle this long are closed (default 30 min). */
  readonly sessionIdleMs?: number;
  /**
   * WVO_JOURNAL_RETAIN: journal entries kept (newest first; 0 = all; default 100 000). Pruning never
   * removes an entry at or above the journal floor a running soak set.
   */
  readonly journalRetain?: number;
  /** Internal (bench/worker.ts's baseline only): `false` turns the live journal off. */
  readonly journal?: boolean;
  /** Tests only: a different migration list. */
  readonly migrations?: readonly Migration[];
  /** Tests only: overrides the package version in /version and the MCP server info. */
  readonly version?: string;
}

export interface WorkerHandle {
  readonly url: string;
  readonly port: number;
  /** Graceful: no new sessions, in-flight calls finish, sessions close, WAL checkpointed, DB closed. */
  close(): Promise<void>;
}

function validate(options: WorkerOptions): void {
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new WorkerError('WVO_WORKER_OPTIONS_INVALID', `port must be an integer 0..65535, got ${String(options.port)}`, {
      subject: 'port',
      exitCode: 2,
    });
  }
  if (!options.stateRoot) {
    throw new WorkerError('WVO_WORKER_OPTIONS_INVALID', 'stateRoot is required', { subject: 'stateRoot', exitCode: 2 });
  }
  const retain = options.journalRetain ?? DEFAULT_JOURNAL_RETAIN;
  if (!Number.isInteger(retain) || retain < 0) {
    throw new WorkerError('WVO_WORKER_OPTIONS_INVALID', `WVO_JOURNAL_RETAIN must be an integer >= 0, got ${String(options.journalRetain)}`, {
      subject: 'WVO_JOURNAL_RETAIN',
      hint: 'The number of newest journal entries to keep; 0 keeps all.',
      exitCode: 2,
    });
  }
  resolveWorkerMode(options);
}

/** Starts a worker: opens (and migrates) the store, then serves MCP over HTTP. */
export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  validate(options);
  const logger = options.logger ?? silentLogger();
  const clock = options.clock ?? systemClock;
  const dryRun = options.dryRun ?? false;
  const mode = resolveWorkerMode(options);
  const version = options.version ?? workerVersion();
  const buildId = options.buildId ?? 'dev';
  const store = Store.open({
    stateRoot: options.stateRoot,
    dryRun,
    sandbox: mode === 'sandbox',
    logger,
    ...(options.migrations ? { migrations: options.migrations } : {}),
  });
  const sandboxDir = join(options.stateRoot, 'sandbox');
  // Only a live worker spawns commands; a sandbox lane adds nothing to its copy but the database.
  if (mode === 'live') mkdirSync(sandboxDir, { recursive: true });

  const operations = new OperationsManager(() => store.db, options.stateRoot);
  const metrics = new WorkerMetrics(store, operations);
  const executor = new Executor({
    dryRun,
    cwd: options.workdir ?? process.cwd(),
    sandboxDir,
    clock,
    ...(options.allowList ? { allowList: options.allowList } : {}),
    onSpawn: () => metrics.countSpawn(),
    replay: mode === 'sandbox',
    journal: storeRunJournal(store, () => new Date(clock.now()).toISOString()),
    onRecordError: (error) => logger.warn({ err: error }, 'executor run not recorded'),
  });
  const context = new ToolContext(store, executor, operations, clock, logger, options.flags ?? {});
  const journalRetain = options.journalRetain ?? DEFAULT_JOURNAL_RETAIN;
  // A sandbox's only time source: derived from its copy, so lanes on copies of one snapshot agree.
  const logical = mode === 'sandbox' ? new LogicalClock(logicalStart(store.db)) : undefined;
  const ledgers = new CallLedgers({
    mode,
    clock,
    journal: { enabled: options.journal ?? true, retain: journalRetain },
    ...(logical ? { logical } : {}),
  });
  const inFlight = new InFlight();
  const sessions = new SessionTable(clock, (size) => metrics.sessions.set(size));
  const openRequests = new OpenRequests();
  let draining = false;
  const app = buildServer(
    {
      store,
      sessions,
      metrics,
      logger,
      version,
      buildId,
      isDraining: () => draining,
      ledgers,
      journalRetain,
      now: () => new Date(clock.now()).toISOString(),
      createMcpServer: () => createMcpServer(context, { metrics, inFlight, version, ledgers }),
    },
    openRequests,
  );

  const idleMs = options.sessionIdleMs ?? 30 * 60_000;
  const sweeper = setInterval(() => {
    sessions.sweep(idleMs).then(
      (closed) => closed > 0 && logger.info({ closed }, 'closed idle sessions'),
      (error: unknown) => logger.warn({ err: error }, 'idle session sweep failed'),
    );
  }, Math.min(idleMs, 60_000));
  sweeper.unref();

  let address: string;
  try {
    address = await app.listen({ port: options.port ?? 8080, host: options.host ?? '127.0.0.1' });
  } catch (error) {
    clearInterval(sweeper);
    store.close();
    throw new WorkerError('WVO_WORKER_OPTIONS_INVALID', `cannot listen on ${options.host ?? '127.0.0.1'}:${options.port ?? 8080}`, {
      subject: 'port',
      cause: error,
      details: { reason: error instanceof Error ? error.message : String(error) },
    });
  }
  const port = (app.server.address() as { port: number }).port;
  const url = new URL(address).origin;
  logger.info({ url, mode, dry_run: dryRun, journal: mode === 'live' && (options.journal ?? true), journal_retain: journalRetain, ...(logical ? { logical_clock_start: new Date(logical.start).toISOString() } : {}), schema: store.schema(), version, build_id: buildId }, 'worker listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      draining = true;
      clearInterval(sweeper);
      logger.info({ in_flight: inFlight.size, open_requests: openRequests.size }, 'draining');
      const deadline = clock.sleep(options.drainTimeoutMs ?? 25_000).then(() => 'timeout' as const);
      const idle = Promise.all([inFlight.idle(), openRequests.idle()]).then(() => 'idle' as const);
      const outcome = await Promise.race([idle, deadline]);
      if (outcome === 'timeout') logger.warn({ in_flight: inFlight.size }, 'drain deadline passed; closing anyway');
      await sessions.closeAll();
      await app.close();
      store.close();
      logger.info('worker stopped');
    })());

  return { url, port, close };
}
