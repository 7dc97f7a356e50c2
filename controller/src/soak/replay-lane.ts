import { connectMcp, parseToolResult, type McpSession } from '../../../common/src/mcp-client.js';
import type { ReplayOutcome } from './answer-compare.js';
import { soakErrors } from './errors.js';
import type { LiveEntry } from './journal-client.js';

/** The worker's names: `_meta` key for tool calls, header for the flag endpoint, the flag write's journal tool. */
export const REPLAY_META_KEY = 'wvo/replay';
export const REPLAY_HEADER = 'wvo-replay';
export const FLAG_TOOL = 'admin.set_flag';

/** The lane did not answer at all (process gone, connection refused): the loop restarts it. */
export class LaneDown extends Error {
  constructor(
    readonly lane: string,
    readonly reason: unknown,
  ) {
    super(`lane ${lane} is down: ${reason instanceof Error ? reason.message : String(reason)}`);
  }
}

const REPLAY_REFUSALS = ['WVO_REPLAY_OUT_OF_ORDER', 'WVO_REPLAY_INVALID', 'WVO_REPLAY_NOT_SANDBOX'];

/** One sandbox lane the soak replays to: one MCP session, reopened after a restart. */
export class ReplayLane {
  private session: McpSession | undefined;

  constructor(
    readonly name: string,
    readonly url: string,
    private readonly token: string | undefined,
    private readonly timeoutMs = 30_000,
  ) {}

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.close().catch(() => undefined);
  }

  /** Replays one entry; a refusal of the replay itself (out of order, invalid) is WVO_SOAK_REPLAY_REFUSED. */
  async replay(entry: LiveEntry): Promise<ReplayOutcome> {
    const outcome = entry.tool === FLAG_TOOL ? await this.replayFlag(entry) : await this.replayTool(entry);
    const code = (outcome.result as { code?: unknown; error?: { code?: unknown } } | null)?.code ?? (outcome.result as { error?: { code?: unknown } } | null)?.error?.code;
    if (outcome.isError && typeof code === 'string' && REPLAY_REFUSALS.includes(code)) {
      throw soakErrors.create('WVO_SOAK_REPLAY_REFUSED', `lane ${this.name} refused journal entry ${entry.seq}: ${code}`, {
        subject: this.name,
        details: { answer: outcome.result },
        hint: 'The lane\'s fork is not at the seq the soak expects (restored by hand?): stop the soak and start a new one.',
      });
    }
    return outcome;
  }

  private async replayTool(entry: LiveEntry): Promise<ReplayOutcome> {
    let session: McpSession;
    try {
      this.session ??= await connectMcp(this.url, `wvo-soak-${this.name}`);
      session = this.session;
    } catch (error) {
      this.session = undefined;
      throw new LaneDown(this.name, error);
    }
    try {
      const result = await session.client.callTool({ name: entry.tool, arguments: entry.args, _meta: { [REPLAY_META_KEY]: entry } }, undefined, { timeout: this.timeoutMs });
      const meta = (result._meta as Record<string, unknown> | undefined)?.[REPLAY_META_KEY] as ReplayOutcome['meta'];
      return { result: parseToolResult(result as { content?: unknown }), isError: result.isError === true, meta };
    } catch (error) {
      await this.close();
      throw new LaneDown(this.name, error);
    }
  }

  private async replayFlag(entry: LiveEntry): Promise<ReplayOutcome> {
    const args = entry.args as { flag?: string; value?: unknown };
    let response: Response;
    try {
      response = await fetch(`${this.url}/admin/flags/${encodeURIComponent(String(args.flag))}`, {
        method: 'PUT',
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          'content-type': 'application/json',
          [REPLAY_HEADER]: JSON.stringify(entry),
        },
        body: JSON.stringify({ value: args.value }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new LaneDown(this.name, error);
    }
    const body = (await response.json().catch(() => null)) as ({ _meta?: Record<string, unknown> } & Record<string, unknown>) | null;
    const { _meta, ...rest } = body ?? {};
    return { result: rest, isError: !response.ok, meta: _meta?.[REPLAY_META_KEY] as ReplayOutcome['meta'] };
  }
}
