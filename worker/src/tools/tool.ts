import type { z } from 'zod';
import type { Clock } from '../../../common/src/clock.js';
import type { Logger } from '../../../common/src/logger.js';
import type { Executor } from '../executor/executor.js';
import type { OperationsManager } from '../operations/operations-manager.js';
import { resolveFlags, type Flags, type ResolvedFlags } from '../store/settings.js';
import type { Store } from '../store/store.js';

/** What every tool gets: one per worker, shared by all sessions. */
export class ToolContext {
  constructor(
    readonly store: Store,
    readonly executor: Executor,
    readonly operations: OperationsManager,
    readonly clock: Clock,
    readonly logger: Logger,
    private readonly flagOverrides: Partial<Flags>,
  ) {}

  get db() {
    return this.store.db;
  }

  get dryRun(): boolean {
    return this.store.dryRun;
  }

  now(): string {
    return new Date(this.clock.now()).toISOString();
  }

  flags(): ResolvedFlags {
    return resolveFlags(this.store.db, this.flagOverrides);
  }
}

export interface ToolDefinition<Schema extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** Strict zod object: unknown keys are rejected with WVO_TOOL_INPUT_INVALID naming the key. */
  readonly input: Schema;
  run(context: ToolContext, input: z.output<Schema>): Promise<Record<string, unknown>> | Record<string, unknown>;
}

/** Keeps each tool's input type tied to its schema. */
export function defineTool<Schema extends z.ZodType>(tool: ToolDefinition<Schema>): ToolDefinition<Schema> {
  return tool;
}
