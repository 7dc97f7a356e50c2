import type { z } from 'zod';
import type { Clock } from '../../../common/src/clock.js';
import type { Logger } from '../../../common/src/logger.js';
import type { ExecutionPlan, ExecutionResult, Executor } from '../executor/executor.js';
import { CallLedger } from '../journal/call-ledger.js';
import type { OperationsManager } from '../operations/operations-manager.js';
import { appendEvent, type EventKind } from '../store/events.js';
import type { IdTable } from '../store/journal.js';
import { resolveFlags, type Flags, type ResolvedFlags } from '../store/settings.js';
import type { Store } from '../store/store.js';

/** What every tool gets: one per worker, shared by all sessions; `forCall` scopes it to one call. */
export class ToolContext {
  constructor(
    readonly store: Store,
    readonly executor: Executor,
    readonly operations: OperationsManager,
    readonly clock: Clock,
    readonly logger: Logger,
    private readonly flagOverrides: Partial<Flags>,
    /** The call's journal state (time, ids, executor runs); the shared context's is off. */
    readonly call: CallLedger = CallLedger.off(() => clock.now()),
  ) {}

  forCall(call: CallLedger): ToolContext {
    return new ToolContext(this.store, this.executor, this.operations, this.clock, this.logger, this.flagOverrides, call);
  }

  get db() {
    return this.store.db;
  }

  get dryRun(): boolean {
    return this.store.dryRun;
  }

  /** The only time source of a tool: the call's clock (logical in a sandbox, the entry's in a replay). */
  now(): string {
    return this.call.now();
  }

  flags(): ResolvedFlags {
    return resolveFlags(this.store.db, this.flagOverrides);
  }

  /** A write transaction of this call; the first one fixes the call's journal seq. */
  tx<T>(fn: () => T): T {
    return this.journaledTx(fn, false);
  }

  /**
   * The call's last write transaction, returning its answer: the journal entry is closed with the
   * answer's digest in the same transaction as the writes.
   */
  answerTx<T extends Record<string, unknown>>(fn: () => T): T {
    return this.journaledTx(fn, true);
  }

  private journaledTx<T>(fn: () => T, final: boolean): T {
    const opening = this.call.seq === undefined;
    try {
      return this.store.tx(() => {
        const result = fn();
        if (final) this.call.close(this.db, { status: 'ok', body: result as Record<string, unknown> });
        else this.call.open(this.db);
        return result;
      });
    } catch (error) {
      this.call.rolledBack(opening, final);
      throw error;
    }
  }

  /** An insert whose generated id the journal records (and a replay forces); `run` gets the id or null. */
  insert(table: IdTable, run: (id: number | null) => number): number {
    const id = run(this.call.forcedId(table, this.db));
    this.call.tookId(table, id);
    return id;
  }

  event(event: { at: string; kind: EventKind; taskId?: string; payload?: unknown }): number {
    return this.insert('events', (id) => appendEvent(this.db, { ...event, id }));
  }

  /** Runs a plan; a replay takes the journal's run instead (no spawn). */
  async execute(plan: ExecutionPlan): Promise<ExecutionResult> {
    const result = this.call.replayRun(plan) ?? (await this.executor.run(plan));
    this.call.noteRun(plan, result);
    return result;
  }
}

export interface ToolDefinition<Schema extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** Strict zod object: unknown keys are rejected with WVO_TOOL_INPUT_INVALID naming the key. */
  readonly input: Schema;
  /** Changes state: journaled live (answers included, coded errors too), replayable in a sandbox. */
  readonly writes?: boolean;
  run(context: ToolContext, input: z.output<Schema>): Promise<Record<string, unknown>> | Record<string, unknown>;
}

/** Keeps each tool's input type tied to its schema. */
export function defineTool<Schema extends z.ZodType>(tool: ToolDefinition<Schema>): ToolDefinition<Schema> {
  return tool;
}
