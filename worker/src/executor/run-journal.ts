import type { ExecutionPlan, ExecutionResult, ExecutionStatus } from './executor.js';
import { commandFingerprint, cwdKind, outputDigest, type CwdKind } from './fingerprint.js';

/** Each stream is kept up to this many characters; the digest covers the full output. */
export const RECORD_OUTPUT_CAP_CHARS = 4096;

/** One executor run as the live worker recorded it (a row of executor_runs). */
export interface RecordedRun {
  readonly fingerprint: string;
  readonly argv: readonly string[];
  readonly cwd_kind: CwdKind;
  readonly status: ExecutionStatus;
  readonly exit_code: number | null;
  readonly duration_ms: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The run's output hit the executor's cap, or the record cut it to RECORD_OUTPUT_CAP_CHARS. */
  readonly truncated: boolean;
  readonly output_sha256: string;
  readonly output_bytes: number;
  readonly error: ExecutionResult['error'] | null;
}

/** Where runs are recorded (live) and read back (sandbox): the store implements it. */
export interface RunJournal {
  record(run: RecordedRun): void;
  /** The newest record for the fingerprint. */
  latest(fingerprint: string): RecordedRun | undefined;
}

/** Pure: the record of a real run. */
export function recordOf(plan: ExecutionPlan, result: ExecutionResult): RecordedRun {
  const cut = result.stdout.length > RECORD_OUTPUT_CAP_CHARS || result.stderr.length > RECORD_OUTPUT_CAP_CHARS;
  return {
    fingerprint: commandFingerprint(plan),
    argv: plan.argv,
    cwd_kind: cwdKind(plan),
    status: result.status,
    exit_code: result.exit_code,
    duration_ms: result.duration_ms,
    stdout: result.stdout.slice(0, RECORD_OUTPUT_CAP_CHARS),
    stderr: result.stderr.slice(0, RECORD_OUTPUT_CAP_CHARS),
    truncated: result.truncated || cut,
    output_sha256: outputDigest(result.stdout, result.stderr),
    output_bytes: Buffer.byteLength(result.stdout) + Buffer.byteLength(result.stderr),
    error: result.error ?? null,
  };
}

/** Pure: a sandbox answer from a record (every field comes from the record or the plan). */
export function replayedResult(plan: ExecutionPlan, record: RecordedRun): ExecutionResult {
  return {
    status: record.status,
    argv: plan.argv,
    exit_code: record.exit_code,
    stdout: record.stdout,
    stderr: record.stderr,
    truncated: record.truncated,
    duration_ms: record.duration_ms,
    timeout_ms: plan.timeout_ms,
    source: 'replayed',
    ...(record.error ? { error: record.error } : {}),
  };
}

/** Pure: the one outcome of a command nobody recorded: identical on every lane (no time, no ids). */
export function notRecordedResult(plan: ExecutionPlan): ExecutionResult {
  return {
    status: 'not_recorded',
    argv: plan.argv,
    exit_code: null,
    stdout: '',
    stderr: '',
    truncated: false,
    duration_ms: 0,
    timeout_ms: plan.timeout_ms,
    source: 'not_recorded',
  };
}
