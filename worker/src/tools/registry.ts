import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { WorkerError } from '../errors.js';
import { autopilotStatusTool } from './autopilot-status.js';
import { dispatchTool } from './dispatch.js';
import { orchestratorStatusTool } from './orchestrator-status.js';
import { planNextTool } from './plan-next.js';
import { reportTool } from './report.js';
import type { ToolContext, ToolDefinition } from './tool.js';
import { errorResult, inputError, okResult } from './tool-result.js';
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

export type ToolOutcome = 'ok' | 'tool_error' | 'internal_error';

/**
 * Validates and runs one call. Every failure is a tool result with isError and a coded JSON
 * body; nothing here throws, so the session and the server keep serving.
 */
export async function callTool(
  context: ToolContext,
  name: string,
  args: unknown,
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
  const parsed = tool.input.safeParse(args ?? {});
  if (!parsed.success) return { result: errorResult(inputError(parsed.error), mode), outcome: 'tool_error' };
  try {
    context.store.assertUsable();
    const body = await context.store.callScope(async () => tool.run(context, parsed.data));
    return { result: okResult(body, mode), outcome: 'ok' };
  } catch (error) {
    const coded = error instanceof WorkerError;
    if (!coded) context.logger.error({ err: error, tool: name }, 'tool failed unexpectedly');
    return { result: errorResult(error, mode), outcome: coded ? 'tool_error' : 'internal_error' };
  }
}
