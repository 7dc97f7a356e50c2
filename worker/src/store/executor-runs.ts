import type { ExecutionStatus } from '../executor/executor.js';
import type { CwdKind } from '../executor/fingerprint.js';
import type { RecordedRun, RunJournal } from '../executor/run-journal.js';
import type { Db } from './database.js';
import type { Store } from './store.js';

/** Newest records kept per fingerprint: replay reads only the newest, the rest explain flakiness. */
export const RUNS_KEPT_PER_FINGERPRINT = 5;

interface RunRow {
  fingerprint: string;
  argv: string;
  cwd_kind: string;
  status: string;
  exit_code: number | null;
  duration_ms: number;
  stdout: string;
  stderr: string;
  truncated: number;
  output_sha256: string;
  output_bytes: number;
  error: string | null;
}

/** Inserts one run and prunes its fingerprint to the newest `keep` (call inside a transaction). */
export function insertRun(db: Db, run: RecordedRun, at: string, keep = RUNS_KEPT_PER_FINGERPRINT): number {
  const id = Number(
    db
      .prepare(
        `INSERT INTO executor_runs (fingerprint, argv, cwd_kind, status, exit_code, duration_ms, stdout, stderr,
           truncated, output_sha256, output_bytes, error, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        run.fingerprint,
        JSON.stringify(run.argv),
        run.cwd_kind,
        run.status,
        run.exit_code,
        run.duration_ms,
        run.stdout,
        run.stderr,
        run.truncated ? 1 : 0,
        run.output_sha256,
        run.output_bytes,
        run.error ? JSON.stringify(run.error) : null,
        at,
      ).lastInsertRowid,
  );
  db.prepare(
    `DELETE FROM executor_runs WHERE fingerprint = ? AND id NOT IN
       (SELECT id FROM executor_runs WHERE fingerprint = ? ORDER BY id DESC LIMIT ?)`,
  ).run(run.fingerprint, run.fingerprint, keep);
  return id;
}

export function latestRun(db: Db, fingerprint: string): RecordedRun | undefined {
  const row = db
    .prepare(
      `SELECT fingerprint, argv, cwd_kind, status, exit_code, duration_ms, stdout, stderr, truncated, output_sha256, output_bytes, error
       FROM executor_runs WHERE fingerprint = ? ORDER BY id DESC LIMIT 1`,
    )
    .get(fingerprint) as RunRow | undefined;
  if (!row) return undefined;
  return {
    fingerprint: row.fingerprint,
    argv: JSON.parse(row.argv) as string[],
    cwd_kind: row.cwd_kind as CwdKind,
    status: row.status as ExecutionStatus,
    exit_code: row.exit_code,
    duration_ms: row.duration_ms,
    stdout: row.stdout,
    stderr: row.stderr,
    truncated: row.truncated === 1,
    output_sha256: row.output_sha256,
    output_bytes: row.output_bytes,
    error: row.error === null ? null : (JSON.parse(row.error) as RecordedRun['error']),
  };
}

/** The executor's journal on the worker's store: one IMMEDIATE transaction per record, like every write. */
export function storeRunJournal(store: Store, now: () => string): RunJournal {
  return {
    record: (run) => store.tx(() => insertRun(store.db, run, now())),
    latest: (fingerprint) => latestRun(store.db, fingerprint),
  };
}
