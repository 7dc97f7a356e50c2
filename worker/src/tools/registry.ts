import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { WorkerError } from '../errors.js';
import type { CallLedger } from '../journal/call-ledger.js';
import { CallLedgers, DEFAULT_JOURNAL_RETAIN } from '../journal/call-ledgers.js';
import { parseReplayMeta, REPLAY_META_KEY, type ReplayMeta } from '../journal/replay-meta.js';
import type { WorkerMode } from '../mode.js';
import { autopilotStatusTool } from './autopilot-status.js';
import { dispatchTool } from './dispatch.js';
import { orchestratorStatusTool } from './orchestrator-status.js';
import { planNextTool } from './plan-next.js';
import { reportTool } from './report.js';
import type { ToolContext, ToolDefinition } from './tool.js';
import { errorBody, errorResult, inputError, okResult } from './tool-result.js';
import { verifyTool } from './verify.js';

export const TOOLS: readonly ToolDefinition[] = [
  planNextTool,
  dispatchTool,
  verifyTool,
  reportTool,
  orchestratorStatusTool,
  autopilotStatusTool,
] as readonly ToolDefinition[];

export const TOOL_NAMES = TOOLS.map((tool) => tool.name);
/** The tools that change state: the journal records exactly these. */
export const WRITE_TOOL_NAMES = TOOLS.filter((tool) => tool.writes).map((tool) => tool.name);

export type ToolOutcome = 'ok' | 'tool_error' | 'internal_error';

export interface CallOptions {
  /** `params._meta["wvo/replay"]` as received (validated here). */
  readonly replay?: unknown;
  readonly ledgers?: CallLedgers;
}

/** A replay is for a sandbox lane and a journaled (write) tool only. */
export function checkReplay(mode: WorkerMode, tool: ToolDefinition, raw: unknown): ReplayMeta {
  if (mode !== 'sandbox') {
    throw new WorkerError('WVO_REPLAY_NOT_SANDBOX', `${REPLAY_META_KEY} is honoured only by a sandbox lane; this worker is ${mode}`, {
      subject: `_meta.${REPLAY_META_KEY}`,
      hint: 'Replay the journal to lanes started with WVO_SANDBOX=1 on a fork; never to live state.',
    });
  }
  if (!tool.writes) {
    throw new WorkerError('WVO_REPLAY_INVALID', `${tool.name} is read-only: the journal holds only state-changing calls`, {
      subject: `_meta.${REPLAY_META_KEY}`,
    });
  }
  return parseReplayMeta(raw);
}

/** Journals a call that ended in an error: a coded tool error is an answer (entry `error`); a crash after writes is `failed`. */
function settleFailure(context: ToolContext, ledger: CallLedger, error: unknown): void {
  if (ledger.mode === 'off' || ledger.closed) return;
  const coded = error instanceof WorkerError;
  // Nothing of an out-of-order replay happened; an uncoded failure before any write left nothing.
  if (coded && error.code === 'WVO_REPLAY_OUT_OF_ORDER') return;
  if (!coded && ledger.seq === undefined) return;
  try {
    context.store.tx(() =>
      ledger.close(
        context.db,
        coded ? { status: 'error', body: errorBody(error), errorCode: error.code } : { status: 'failed', body: null, errorCode: 'WVO_INTERNAL' },
      ),
    );
  } catch (journalError) {
    // A replay must not move on without its entry: the controller sees the failure and retries.
    if (ledger.mode === 'replay') throw journalError;
    context.logger.warn({ err: journalError, tool: ledger.seq }, 'journal entry of a failed call not written');
  }
}

async function runCall(
  context: ToolContext,
  tool: ToolDefinition,
  parsed: z.ZodSafeParseResult<unknown>,
  ledger: CallLedger,
): Promise<Record<string, unknown>> {
  try {
    ledger.assertNext(context.db);
    if (!parsed.success) throw inputError(parsed.error);
    const body = await tool.run(context.forCall(ledger), parsed.data);
    // A write tool that never used answerTx still gets its entry (in a transaction of its own).
    if (ledger.mode !== 'off' && !ledger.closed) context.store.tx(() => ledger.close(context.db, { status: 'ok', body }));
    return body;
  } catch (error) {
    settleFailure(context, ledger, error);
    throw error;
  }
}

/**
 * Validates and runs one call. Every failure is a tool result with isError and a coded JSON
 * body; nothing here throws, so the session and the server keep serving.
 */
export async function callTool(
  context: ToolContext,
  name: string,
  args: unknown,
  options: CallOptions = {},
): Promise<{ result: CallToolResult; outcome: ToolOutcome }> {
  const mode = context.store.mode;
  const tool = TOOLS.find((candidate) => candidate.name === name);
  if (!tool) {
    const error = new WorkerError('WVO_TOOL_UNKNOWN', `unknown tool ${JSON.stringify(name)}`, {
      subject: 'name',
      hint: `Tools: ${TOOL_NAMES.join(', ')}.`,
    });
    return { result: errorResult(error, mode), outcome: 'tool_error' };
  }
  let replay: ReplayMeta | undefined;
  try {
    if (options.replay !== undefined) replay = checkReplay(mode, tool, options.replay);
  } catch (error) {
    return { result: errorResult(error, mode), outcome: 'tool_error' };
  }
  const parsed = tool.input.safeParse(args ?? {});
  // Read tools: invalid input is answered at once. Write tools journal it (an answer a replay must match).
  if (!parsed.success && !tool.writes) return { result: errorResult(inputError(parsed.error), mode), outcome: 'tool_error' };
  const ledgers = options.ledgers ?? new CallLedgers({ mode, journal: { enabled: false, retain: DEFAULT_JOURNAL_RETAIN }, clock: context.clock });
  let ledger: CallLedger | undefined;
  try {
    if (parsed.success) context.store.assertUsable();
    else if (context.store.isClosed) throw inputError(parsed.error);
    const body = await context.store.callScope(async () => {
      ledger = ledgers.begin(tool, args ?? {}, replay);
      return runCall(context, tool, parsed, ledger);
    });
    return { result: okResult(body, mode, replayMeta(ledger)), outcome: 'ok' };
  } catch (error) {
    const coded = error instanceof WorkerError;
    if (!coded) context.logger.error({ err: error, tool: name }, 'tool failed unexpectedly');
    return { result: errorResult(error, mode, replayMeta(ledger)), outcome: coded ? 'tool_error' : 'internal_error' };
  }
}

function replayMeta(ledger: CallLedger | undefined): Record<string, unknown> | undefined {
  const meta = ledger?.resultMeta();
  return meta === undefined ? undefined : { [REPLAY_META_KEY]: meta };
}
