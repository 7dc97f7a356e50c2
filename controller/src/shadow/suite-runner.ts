import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { systemClock, type Clock } from '../../../common/src/clock.js';
import { parseToolResult } from '../../../common/src/mcp-client.js';
import { WvoError } from '../../../common/src/errors.js';
import { resolveArgumentRefs } from './argument-refs.js';
import { callLabel, checkSuiteTools, type Suite, type SuiteCall } from './suite.js';
import { shadowErrors } from './errors.js';

/** What one lane answered to one call. */
export interface CallOutcome {
  /**
   * The parsed result: `structuredContent` when the server sends it, else the content items with
   * text parsed as JSON where it parses (one item → the item itself, none → null). A JSON-RPC
   * error (the server refused the call) is `{error: {code, message}}` with `isError: true`.
   */
  readonly result: unknown;
  readonly isError: boolean;
  readonly durationMs: number;
}

export interface SuiteCallRun<L extends string> {
  readonly index: number;
  readonly call: SuiteCall;
  /** What was sent: the call's arguments with `$from` references resolved. */
  readonly arguments: Record<string, unknown>;
  readonly outcomes: Readonly<Record<L, CallOutcome>>;
  /** Repeated answers of a `read_only` call, per repeating lane (noise samples). */
  readonly repeats?: Readonly<Partial<Record<L, readonly CallOutcome[]>>>;
}

export interface SuiteRun<L extends string> {
  /** Tool names each lane lists (`tools/list`). */
  readonly tools: Readonly<Record<L, readonly string[]>>;
  readonly calls: readonly SuiteCallRun<L>[];
}

export type SuiteProgress<L extends string> =
  | { readonly type: 'connected'; readonly lane: L; readonly url: string; readonly tools: number }
  | {
      readonly type: 'call';
      readonly index: number;
      readonly total: number;
      readonly tool: string;
      readonly name: string;
      readonly durationsMs: Readonly<Record<L, number>>;
    };

export interface RunSuiteOptions<L extends string> {
  /** Lane name → MCP Streamable HTTP endpoint (`http://127.0.0.1:4100/mcp`; a bare origin means `/mcp`). */
  readonly lanes: Readonly<Record<L, string>>;
  readonly suite: Suite;
  /** Names the suite in errors (its file). */
  readonly suiteSource?: string;
  /** The lane whose `tools/list` the suite is checked against (default: the first lane). */
  readonly referenceLane?: L;
  /** Per call; a call that times out is recorded as a JSON-RPC error outcome (default 30 s). */
  readonly callTimeoutMs?: number;
  readonly onProgress?: (event: SuiteProgress<L>) => void;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  /**
   * Lanes on which each `read_only` call is asked again right after it was answered (the state it
   * reads is unchanged then), `repeats` times: samples of the same code for the noise model.
   * Never the candidate. Default: none.
   */
  readonly repeatReadOnly?: { readonly lanes: readonly L[]; readonly repeats: number };
}

const CLIENT_INFO = { name: 'wvo-shadow', version: '0.1.0' };

/** One MCP session with one server, through the official SDK client. */
export class LaneClient {
  private constructor(
    readonly lane: string,
    readonly url: string,
    private readonly client: Client,
    private readonly transport: StreamableHTTPClientTransport,
    private readonly clock: Clock,
  ) {}

  static async connect(lane: string, url: string, clock: Clock = systemClock): Promise<LaneClient> {
    const client = new Client(CLIENT_INFO);
    let transport: StreamableHTTPClientTransport;
    try {
      transport = new StreamableHTTPClientTransport(mcpEndpoint(url));
      await client.connect(transport);
    } catch (error) {
      await client.close().catch(() => undefined);
      throw laneError('WVO_SHADOW_LANE_UNREACHABLE', lane, url, `cannot open an MCP session: ${describe(error)}`, error);
    }
    return new LaneClient(lane, url, client, transport, clock);
  }

  /** Every tool name, following `nextCursor` pages. */
  async listTools(signal?: AbortSignal): Promise<string[]> {
    const names: string[] = [];
    let cursor: string | undefined;
    try {
      do {
        const page = await this.client.listTools(cursor === undefined ? {} : { cursor }, { signal });
        names.push(...page.tools.map((tool) => tool.name));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    } catch (error) {
      throw laneError('WVO_SHADOW_LANE_FAILED', this.lane, this.url, `tools/list failed: ${describe(error)}`, error);
    }
    return names;
  }

  async call(
    call: SuiteCall,
    index: number,
    options: { timeoutMs: number; signal?: AbortSignal; arguments?: Record<string, unknown> },
  ): Promise<CallOutcome> {
    const started = this.clock.now();
    const elapsed = () => Math.max(0, this.clock.now() - started);
    try {
      const result = await this.client.callTool({ name: call.tool, arguments: options.arguments ?? call.arguments }, undefined, {
        timeout: options.timeoutMs,
        signal: options.signal,
      });
      // The SDK types the result as a union with the pre-2024-11 `toolResult` shape; read it loosely.
      const answer = result as { content?: unknown; structuredContent?: unknown; isError?: unknown };
      return { result: parseToolResult(answer), isError: answer.isError === true, durationMs: elapsed() };
    } catch (error) {
      // The caller cancelled (Ctrl-C): that is not the lane's fault, pass the reason on.
      if (options.signal?.aborted) throw options.signal.reason;
      // A JSON-RPC error (or a timeout) is the server's answer and comparable; a dead connection is not.
      if (error instanceof McpError && error.code !== ErrorCode.ConnectionClosed) {
        return { result: { error: { code: error.code, message: error.message } }, isError: true, durationMs: elapsed() };
      }
      throw laneError(
        'WVO_SHADOW_LANE_FAILED',
        this.lane,
        this.url,
        `call ${index} (${callLabel(call, index)}) failed: ${describe(error)}`,
        error,
      );
    }
  }

  /** End the session on the server (DELETE), then close the client; never throws. */
  async close(): Promise<void> {
    await this.transport.terminateSession().catch(() => undefined);
    await this.client.close().catch(() => undefined);
  }
}

/**
 * Run every call of the suite on every lane. Lanes answer each call concurrently (so time-derived
 * values stay close); calls run in suite order, since later calls may depend on earlier ones.
 */
export async function runSuite<L extends string>(options: RunSuiteOptions<L>): Promise<SuiteRun<L>> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.callTimeoutMs ?? 30_000;
  const names = Object.keys(options.lanes) as L[];
  if (names.length === 0) {
    throw shadowErrors.create('WVO_SHADOW_LANE_UNREACHABLE', 'no lanes to run the suite against', { exitCode: 2 });
  }
  const clients = new Map<L, LaneClient>();
  try {
    const connected = await Promise.allSettled(
      names.map(async (lane) => {
        const client = await LaneClient.connect(lane, options.lanes[lane], clock);
        clients.set(lane, client);
        return [lane, await client.listTools(options.signal)] as const;
      }),
    );
    const failure = connected.find((outcome) => outcome.status === 'rejected');
    if (failure) throw failure.reason;
    const tools = Object.fromEntries(
      connected.map((outcome) => (outcome as PromiseFulfilledResult<readonly [L, string[]]>).value),
    ) as Record<L, string[]>;
    for (const lane of names) {
      options.onProgress?.({ type: 'connected', lane, url: options.lanes[lane], tools: tools[lane].length });
    }
    const reference = options.referenceLane ?? names[0]!;
    checkSuiteTools(options.suite, tools[reference], options.suiteSource);

    const repeatCall = async (call: SuiteCall, index: number, args: Record<string, unknown>) => {
      const { repeats = 0 } = options.repeatReadOnly ?? {};
      const lanes = (options.repeatReadOnly?.lanes ?? []).filter((lane) => clients.has(lane));
      if (repeats === 0 || lanes.length === 0) return undefined;
      const out = {} as Partial<Record<L, CallOutcome[]>>;
      for (let round = 0; round < repeats; round++) {
        const answered = await Promise.all(
          lanes.map(async (lane) => [lane, await clients.get(lane)!.call(call, index, { timeoutMs, signal: options.signal, arguments: args })] as const),
        );
        for (const [lane, outcome] of answered) (out[lane] ??= []).push(outcome);
      }
      return out;
    };
    const answers = new Map<string, unknown>();
    const calls: SuiteCallRun<L>[] = [];
    for (const [index, call] of options.suite.calls.entries()) {
      const args = resolveArgumentRefs(call.arguments, answers);
      const answered = await Promise.all(
        names.map(async (lane) => {
          const outcome = await clients.get(lane)!.call(call, index, { timeoutMs, signal: options.signal, arguments: args });
          return [lane, outcome] as const;
        }),
      );
      const outcomes = Object.fromEntries(answered) as Record<L, CallOutcome>;
      if (call.name !== undefined) answers.set(call.name, outcomes[reference].result);
      const repeats = call.read_only ? await repeatCall(call, index, args) : undefined;
      calls.push({ index, call, arguments: args, outcomes, ...(repeats ? { repeats } : {}) });
      options.onProgress?.({
        type: 'call',
        index,
        total: options.suite.calls.length,
        tool: call.tool,
        name: callLabel(call, index),
        durationsMs: Object.fromEntries(answered.map(([lane, outcome]) => [lane, outcome.durationMs])) as Record<L, number>,
      });
    }
    return { tools, calls };
  } finally {
    await Promise.all([...clients.values()].map((client) => client.close()));
  }
}

/** A bare origin (`http://127.0.0.1:4100`) means its `/mcp` endpoint; any other path is used as given. */
export function mcpEndpoint(url: string): URL {
  const endpoint = new URL(url);
  if (endpoint.pathname === '/' || endpoint.pathname === '') endpoint.pathname = '/mcp';
  return endpoint;
}

function laneError(code: 'WVO_SHADOW_LANE_UNREACHABLE' | 'WVO_SHADOW_LANE_FAILED', lane: string, url: string, message: string, cause: unknown): WvoError {
  return shadowErrors.create(code, `${lane} lane (${url}): ${message}`, {
    subject: `${lane} ${url}`,
    hint: 'Check that the lane is running and serves MCP Streamable HTTP at that URL (its log shows why it stopped).',
    details: { lane, url },
    cause,
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
