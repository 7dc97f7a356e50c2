import { WorkerError } from '../errors.js';
import type { ExecutionPlan, ExecutionResult, ExecutionStatus } from '../executor/executor.js';
import type { Db } from '../store/database.js';
import { appendEntry, closeEntry, lastSeq, pruneJournal, type IdTable, type JournalIds, type JournalRun, type JournalStatus } from '../store/journal.js';
import { answerDigest } from './answer-digest.js';
import type { ReplayMeta } from './replay-meta.js';

/**
 * `off`: not journaled (reads, DRY_RUN, a sandbox call without replay meta, journaling disabled);
 * `record`: a live write call: its times, ids and executor runs are collected and its entry
 * written inside its own write transactions; `replay`: a sandbox call replaying a journal entry:
 * times, ids and runs come from the entry, and the fork's journal records the replayed seq.
 */
export const LEDGER_MODES = ['off', 'record', 'replay'] as const;
export type LedgerMode = (typeof LEDGER_MODES)[number];

/** A replay that could not reproduce the entry exactly; reported in the answer's `_meta`, never hidden. */
export const REPLAY_MISMATCH_KINDS = ['id_taken', 'id_extra', 'id_missing', 'run_argv', 'run_missing', 'run_unused'] as const;
export interface ReplayMismatch {
  readonly kind: (typeof REPLAY_MISMATCH_KINDS)[number];
  readonly table?: IdTable;
  readonly expected?: unknown;
  readonly got?: unknown;
}

/** Every this many appends (or every `retain`, if smaller), retention prunes the journal in the same transaction. */
export const PRUNE_EVERY = 256;

const iso = (ms: number) => new Date(ms).toISOString();

export interface CallLedgerOptions {
  readonly mode: LedgerMode;
  readonly tool: string;
  readonly args: unknown;
  /** The call's clock (ms): the system clock live, the logical clock in a sandbox. */
  readonly read: () => number;
  readonly replay?: ReplayMeta;
  /** Record mode: keep the newest N entries (0 = all). */
  readonly retain?: number;
}

/** One call's journal state: its clock readings, generated ids and executor runs. */
export class CallLedger {
  private entrySeq: number | undefined;
  private closedWith: { status: JournalStatus; digest: string | null } | undefined;
  private readonly times: string[] = [];
  private readonly ids: Record<string, number[]> = {};
  private readonly runs: JournalRun[] = [];
  private readonly idCursor: Record<string, number> = {};
  private runCursor = 0;
  private readonly mismatchList: ReplayMismatch[] = [];

  constructor(private readonly options: CallLedgerOptions) {}

  static off(read: () => number): CallLedger {
    return new CallLedger({ mode: 'off', tool: '', args: {}, read });
  }

  get mode(): LedgerMode {
    return this.options.mode;
  }
  get seq(): number | undefined {
    return this.entrySeq;
  }
  get closed(): boolean {
    return this.closedWith !== undefined;
  }
  get mismatches(): readonly ReplayMismatch[] {
    return this.mismatchList;
  }

  /** The call's next clock reading. A replay reads the entry's times in order (the last repeats). */
  now(): string {
    const replay = this.options.replay;
    if (this.options.mode === 'replay' && replay) {
      const times = replay.times ?? [];
      const value = times[this.times.length] ?? times.at(-1) ?? replay.at;
      this.times.push(value);
      return value;
    }
    const value = iso(this.options.read());
    if (this.options.mode === 'record') this.times.push(value);
    return value;
  }

  /** Replay: the entry must be the fork's next one (no gap, nothing replayed twice). */
  assertNext(db: Db): void {
    const replay = this.options.replay;
    if (this.options.mode !== 'replay' || !replay) return;
    const expected = lastSeq(db) + 1;
    if (replay.seq !== expected) {
      // A fork taken while a live call was between its transactions holds half of it: say so.
      const open = (db.prepare("SELECT seq FROM journal WHERE status = 'open' ORDER BY seq").all() as Array<{ seq: number }>).map((row) => row.seq);
      throw new WorkerError('WVO_REPLAY_OUT_OF_ORDER', `journal entry ${replay.seq} replayed, but this fork's next entry is ${expected}`, {
        subject: '_meta.wvo/replay.seq',
        hint: open.length
          ? `The fork holds open entries ${open.join(', ')} (taken mid-call): fork again when GET /journal/head lists none open.`
          : expected > replay.seq
            ? 'Already replayed: resume after GET /journal/head of this lane.'
            : 'An entry is missing (a gap): replay every entry in order.',
        details: { expected, got: replay.seq, ...(open.length ? { fork_open: open } : {}) },
      });
    }
  }

  private entryAt(): string {
    const replay = this.options.replay;
    return this.options.mode === 'replay' && replay ? replay.at : (this.times[0] ?? iso(this.options.read()));
  }

  /**
   * At the end of a write transaction that is not the call's last: appends the entry `open`, once
   * (the call's seq is fixed by its first write transaction, which is what replay order follows).
   */
  open(db: Db): void {
    if (this.options.mode === 'off' || this.entrySeq !== undefined) return;
    this.assertNext(db);
    this.entrySeq = appendEntry(db, { ...this.seqOf(), tool: this.options.tool, args: this.options.args, at: this.entryAt(), ...this.body('open', null) });
  }

  private seqOf(): { seq?: number } {
    return this.options.mode === 'replay' && this.options.replay ? { seq: this.options.replay.seq } : {};
  }

  private body(status: JournalStatus, digest: string | null, errorCode: string | null = null) {
    return { status, answer_sha256: digest, error_code: errorCode, times: this.times, ids: this.ids as JournalIds, runs: this.runs };
  }

  /** The transaction that opened (or closed) the entry rolled back: the seq is free again. */
  rolledBack(openedHere: boolean, closedHere: boolean): void {
    if (openedHere) this.entrySeq = undefined;
    if (closedHere) this.closedWith = undefined;
  }

  /**
   * Inside the call's last write transaction: the final answer (or error body) and everything the
   * call generated; one INSERT when the call wrote in this transaction only.
   */
  close(db: Db, outcome: { status: Exclude<JournalStatus, 'open'>; body: Record<string, unknown> | null; errorCode?: string }): void {
    if (this.options.mode === 'off' || this.closedWith) return;
    if (this.options.mode === 'replay') this.noteLeftovers();
    const digest = outcome.body === null ? null : answerDigest(outcome.body);
    const body = this.body(outcome.status, digest, outcome.errorCode ?? null);
    if (this.entrySeq === undefined) {
      this.assertNext(db);
      this.entrySeq = appendEntry(db, { ...this.seqOf(), tool: this.options.tool, args: this.options.args, at: this.entryAt(), ...body });
    } else {
      closeEntry(db, this.entrySeq, body);
    }
    this.closedWith = { status: outcome.status, digest };
    const seq = this.entrySeq;
    const retain = this.options.retain ?? 0;
    if (this.options.mode === 'record' && retain > 0 && seq % Math.min(PRUNE_EVERY, retain) === 0) pruneJournal(db, seq, retain);
  }

  /**
   * Replay: the id the entry says this insert got, when it is free in this fork (forcing it keeps
   * every later row aligned with live even if this lane inserts more or fewer rows); `null` = let
   * SQLite pick (and report why).
   */
  forcedId(table: IdTable, db: Db): number | null {
    const wanted = this.options.mode === 'replay' ? this.options.replay?.ids : undefined;
    if (!wanted) return null;
    const index = this.idCursor[table] ?? 0;
    this.idCursor[table] = index + 1;
    const expected = wanted[table]?.[index];
    if (expected === undefined) return null;
    if (db.prepare(`SELECT 1 FROM "${table}" WHERE id = ?`).get(expected) !== undefined) {
      this.mismatchList.push({ kind: 'id_taken', table, expected });
      return null;
    }
    return expected;
  }

  /** The id an insert got (recorded live; a replay records its own, and flags ids the entry did not have). */
  tookId(table: IdTable, id: number): void {
    if (this.options.mode === 'off') return;
    (this.ids[table] ??= []).push(id);
    const wanted = this.options.mode === 'replay' ? this.options.replay?.ids : undefined;
    if (wanted && (wanted[table]?.length ?? 0) < (this.ids[table]?.length ?? 0)) this.mismatchList.push({ kind: 'id_extra', table, got: id });
  }

  /** Replay with runs: the entry's next run for this plan (no spawn, no executor record); undefined = fall back. */
  replayRun(plan: ExecutionPlan): ExecutionResult | undefined {
    const runs = this.options.mode === 'replay' ? this.options.replay?.runs : undefined;
    if (!runs || plan.kind !== 'exec') return undefined;
    const run = runs[this.runCursor];
    this.runCursor += 1;
    if (!run) {
      this.mismatchList.push({ kind: 'run_missing', got: plan.argv });
      return undefined;
    }
    if (JSON.stringify(run.argv) !== JSON.stringify(plan.argv)) {
      this.mismatchList.push({ kind: 'run_argv', expected: run.argv, got: plan.argv });
      return undefined;
    }
    // Key order as the executor's spawn builds it: the replayed answer is byte-identical, not just equal.
    return {
      argv: plan.argv,
      timeout_ms: plan.timeout_ms,
      source: 'replayed',
      status: run.status as ExecutionStatus,
      exit_code: run.exit_code,
      stdout: run.stdout,
      stderr: run.stderr,
      truncated: run.truncated,
      duration_ms: run.duration_ms,
      ...(run.error ? { error: run.error } : {}),
    };
  }

  /** An executor result this call's answer carries (record: journaled; replay: kept as the lane's own). */
  noteRun(plan: Pick<ExecutionPlan, 'kind'>, result: ExecutionResult): void {
    if (this.options.mode === 'off' || plan.kind !== 'exec') return;
    this.runs.push({
      argv: result.argv,
      status: result.status,
      exit_code: result.exit_code,
      stdout: result.stdout,
      stderr: result.stderr,
      truncated: result.truncated,
      duration_ms: result.duration_ms,
      ...(result.error ? { error: result.error } : {}),
    });
  }

  private noteLeftovers(): void {
    const replay = this.options.replay;
    for (const [table, expected] of Object.entries(replay?.ids ?? {})) {
      const used = this.idCursor[table] ?? 0;
      if (expected && used < expected.length) this.mismatchList.push({ kind: 'id_missing', table: table as IdTable, expected: expected.slice(used) });
    }
    if (replay?.runs && this.runCursor < replay.runs.length) {
      this.mismatchList.push({ kind: 'run_unused', expected: replay.runs.slice(this.runCursor).map((run) => run.argv) });
    }
  }

  /** Replay: what the answer's `_meta["wvo/replay"]` says (the lane's digest, whether it matches, mismatches). */
  resultMeta(): Record<string, unknown> | undefined {
    const replay = this.options.replay;
    if (this.options.mode !== 'replay' || !replay) return undefined;
    const digest = this.closedWith?.digest ?? null;
    return {
      seq: replay.seq,
      status: this.closedWith?.status ?? null,
      answer_sha256: digest,
      ...(replay.answer_sha256 === undefined ? {} : { answer_matches: digest !== null && digest === replay.answer_sha256 }),
      mismatches: this.mismatchList,
    };
  }
}
