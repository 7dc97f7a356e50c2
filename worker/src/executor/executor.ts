import { execa } from 'execa';
import type { Clock } from '../../../common/src/clock.js';
import { systemClock } from '../../../common/src/clock.js';
import { checkCommand, DEFAULT_ALLOW_LIST, type AllowList } from './allow-list.js';
import type { TaskCommand } from './command-dsl.js';
import { commandFingerprint } from './fingerprint.js';
import { notRecordedResult, recordOf, replayedResult, type RunJournal } from './run-journal.js';

/** `not_recorded`: a sandbox replay found no record of this command (a coverage gap). */
export const EXECUTION_STATUSES = ['succeeded', 'failed', 'timed_out', 'would_run', 'not_recorded'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/**
 * Where a result came from: `spawned` (a real process), `replayed` (a live run's record, sandbox),
 * `not_recorded` (sandbox, no record), `none` (nothing to run: a noop, or strict DRY_RUN).
 */
export const EXECUTION_SOURCES = ['spawned', 'replayed', 'not_recorded', 'none'] as const;
export type ExecutionSource = (typeof EXECUTION_SOURCES)[number];

/** A validated command, ready to run: what DRY_RUN reports it would have run. */
export interface ExecutionPlan {
  readonly kind: 'exec' | 'noop';
  readonly argv: readonly string[];
  readonly timeout_ms: number;
  readonly output_cap_bytes: number;
  readonly cwd: string;
  readonly sandbox: boolean;
}

export interface ExecutionResult {
  readonly status: ExecutionStatus;
  readonly argv: readonly string[];
  readonly exit_code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: boolean;
  readonly duration_ms: number;
  readonly timeout_ms: number;
  readonly source: ExecutionSource;
  /** Set when the process could not be started (e.g. the program is not installed). */
  readonly error?: { readonly code: 'WVO_EXEC_SPAWN_FAILED'; readonly message: string };
}

export interface ExecutorOptions {
  readonly dryRun: boolean;
  /** Working directory for commands (SANDBOX_MODE=off). */
  readonly cwd: string;
  /** Working directory with SANDBOX_MODE=strict. */
  readonly sandboxDir: string;
  readonly allowList?: AllowList;
  readonly clock?: Clock;
  readonly defaultTimeoutMs?: number;
  readonly outputCapBytes?: number;
  /** Called once per real process spawned (metrics; tests prove DRY_RUN spawns nothing). */
  readonly onSpawn?: (argv: readonly string[]) => void;
  /** Sandbox: spawn nothing, answer from `journal` (the live worker's records). */
  readonly replay?: boolean;
  /** Live: every spawned run is recorded here; sandbox: where replays are read. */
  readonly journal?: RunJournal;
  /** A record that could not be written (the run's result still stands). */
  readonly onRecordError?: (error: unknown) => void;
}

/** The only environment a command sees: no secrets, no inherited WVO_* or tokens. */
export const CLEAN_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  LANG: 'C.UTF-8',
  HOME: '/nonexistent',
  CI: '1',
};

export class Executor {
  private readonly allowList: AllowList;
  private readonly clock: Clock;
  private readonly defaultTimeoutMs: number;
  private readonly outputCap: number;

  constructor(private readonly options: ExecutorOptions) {
    this.allowList = options.allowList ?? DEFAULT_ALLOW_LIST;
    this.clock = options.clock ?? systemClock;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 30_000;
    this.outputCap = options.outputCapBytes ?? 64 * 1024;
  }

  get dryRun(): boolean {
    return this.options.dryRun;
  }

  /** Validates against the allow-list (coded errors name `fieldPrefix.*`) and fixes limits. */
  plan(command: TaskCommand, options: { sandbox: boolean; fieldPrefix?: string }): ExecutionPlan {
    const cwd = options.sandbox ? this.options.sandboxDir : this.options.cwd;
    const outputCap = options.sandbox ? Math.floor(this.outputCap / 4) : this.outputCap;
    if (command.kind === 'noop') {
      return { kind: 'noop', argv: [], timeout_ms: 0, output_cap_bytes: outputCap, cwd, sandbox: options.sandbox };
    }
    const entry = checkCommand(command, {
      allowList: this.allowList,
      sandbox: options.sandbox,
      ...(options.fieldPrefix === undefined ? {} : { fieldPrefix: options.fieldPrefix }),
    });
    let timeout = Math.min(command.timeout_ms ?? this.defaultTimeoutMs, entry.maxTimeoutMs);
    if (options.sandbox) timeout = Math.max(1, Math.floor(timeout / 2));
    return {
      kind: 'exec',
      argv: [command.program, ...command.args],
      timeout_ms: timeout,
      output_cap_bytes: outputCap,
      cwd,
      sandbox: options.sandbox,
    };
  }

  /** Runs a plan: no shell, clean env, timeout, output cap. DRY_RUN and sandbox spawn nothing. */
  async run(plan: ExecutionPlan): Promise<ExecutionResult> {
    const base = { argv: plan.argv, timeout_ms: plan.timeout_ms, source: 'none' as const };
    if (plan.kind === 'noop') {
      return { ...base, status: 'succeeded', exit_code: 0, stdout: '', stderr: '', truncated: false, duration_ms: 0 };
    }
    if (this.options.dryRun) {
      return { ...base, status: 'would_run', exit_code: null, stdout: '', stderr: '', truncated: false, duration_ms: 0 };
    }
    if (this.options.replay) {
      const record = this.options.journal?.latest(commandFingerprint(plan));
      return record ? replayedResult(plan, record) : notRecordedResult(plan);
    }
    const result = await this.spawn(plan);
    try {
      this.options.journal?.record(recordOf(plan, result));
    } catch (error) {
      // The command ran and its result is real; a lost record only narrows a later shadow's replay.
      this.options.onRecordError?.(error);
    }
    return result;
  }

  private async spawn(plan: ExecutionPlan): Promise<ExecutionResult> {
    const [program, ...args] = plan.argv as [string, ...string[]];
    const started = this.clock.now();
    this.options.onSpawn?.(plan.argv);
    const result = await execa(program, args, {
      shell: false,
      env: CLEAN_ENV,
      extendEnv: false,
      cwd: plan.cwd,
      stdin: 'ignore',
      timeout: plan.timeout_ms,
      maxBuffer: plan.output_cap_bytes,
      forceKillAfterDelay: 1_000,
      reject: false,
    });
    const duration = Math.max(0, this.clock.now() - started);
    const stdout = typeof result.stdout === 'string' ? result.stdout : '';
    const stderr = typeof result.stderr === 'string' ? result.stderr : '';
    const status: ExecutionStatus = result.timedOut ? 'timed_out' : result.exitCode === 0 && !result.failed ? 'succeeded' : 'failed';
    return {
      argv: plan.argv,
      timeout_ms: plan.timeout_ms,
      source: 'spawned',
      status,
      exit_code: result.exitCode ?? null,
      stdout,
      stderr,
      truncated: result.isMaxBuffer,
      duration_ms: duration,
      ...(result.failed && result.exitCode === undefined && !result.timedOut
        ? { error: { code: 'WVO_EXEC_SPAWN_FAILED' as const, message: result.shortMessage ?? 'spawn failed' } }
        : {}),
    };
  }
}
