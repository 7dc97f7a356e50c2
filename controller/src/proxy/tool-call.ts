import { SseDataLines } from './sse-lines.js';

/**
 * What the proxy reads of a `tools/call` exchange for per-tool metrics: the tool's name from the
 * (already buffered) request body, and the call's outcome from the response as it streams past.
 * The response is never held back: the sniffer keeps references to the chunks it has already
 * forwarded, only while it still needs them, and parses JSON only when an error marker shows up.
 */

/** How a `tools/call` ended, as the proxy saw it. */
export const TOOL_OUTCOMES = ['ok', 'tool_error', 'rpc_error', 'http_error', 'aborted', 'unknown'] as const;
export type ToolOutcome = (typeof TOOL_OUTCOMES)[number];

const TOOLS_CALL = Buffer.from('"tools/call"');
/** MCP tool names: 1–128 of [A-Za-z0-9_.-] (we also allow "/"); anything else is one label. */
const TOOL_NAME = /^[A-Za-z0-9_./-]{1,128}$/;
export const INVALID_TOOL = '_invalid';

/** The tool a single (non-batch) JSON-RPC `tools/call` request names; undefined for anything else. */
export function toolCallName(body: Buffer | null): string | undefined {
  if (body === null || !body.includes(TOOLS_CALL)) return undefined;
  let message: { method?: unknown; params?: { name?: unknown } } | null;
  try {
    message = JSON.parse(body.toString('utf8')) as typeof message;
  } catch {
    return undefined;
  }
  if (message === null || typeof message !== 'object' || message.method !== 'tools/call') return undefined;
  const name = message.params?.name;
  return typeof name === 'string' && TOOL_NAME.test(name) ? name : INVALID_TOOL;
}

/** Largest response (JSON body, or one SSE line) the sniffer will look into; beyond it: `unknown`. */
export const SNIFF_LIMIT_BYTES = 256 * 1024;

const ERROR_KEY = Buffer.from('"error"');
const IS_ERROR_KEY = Buffer.from('"isError"');
const RESULT_KEY = Buffer.from('"result"');

type Verdict = 'ok' | 'tool_error' | 'rpc_error';

/** A JSON-RPC response's verdict; undefined for requests, notifications and batches. */
export function classifyResponse(message: unknown): Verdict | undefined {
  if (message === null || typeof message !== 'object' || Array.isArray(message) || 'method' in message) return undefined;
  if ('error' in message) return 'rpc_error';
  if (!('result' in message)) return undefined;
  const result = (message as { result?: { isError?: unknown } }).result;
  return result?.isError === true ? 'tool_error' : 'ok';
}

function classifyBytes(bytes: Buffer): Verdict | undefined {
  // Fast path: no error marker, no parse. The markers cannot hide inside JSON strings (quotes are escaped there).
  if (!bytes.includes(ERROR_KEY) && !bytes.includes(IS_ERROR_KEY)) return bytes.includes(RESULT_KEY) ? 'ok' : undefined;
  try {
    return classifyResponse(JSON.parse(bytes.toString('utf8')));
  } catch {
    return undefined;
  }
}

/**
 * Watches one `tools/call` response: `application/json` bodies are classified at the end;
 * `text/event-stream` bodies line by line as they pass (the last JSON-RPC response on the stream
 * is the call's answer; progress notifications before it are skipped).
 */
export class ToolResultSniffer {
  private mode: 'json' | 'sse' | 'none' = 'none';
  private pieces: Buffer[] = [];
  private size = 0;
  private overflow = false;
  private verdict: Verdict | undefined;
  private lines: SseDataLines | undefined;

  start(contentType: string | undefined): void {
    if (contentType?.startsWith('application/json')) this.mode = 'json';
    else if (contentType?.startsWith('text/event-stream')) {
      this.mode = 'sse';
      this.lines = new SseDataLines(SNIFF_LIMIT_BYTES, (payload) => {
        const verdict = classifyBytes(payload);
        if (verdict !== undefined) this.verdict = verdict;
      });
    }
  }

  data(chunk: Buffer): void {
    if (this.mode === 'json') this.keep(chunk);
    else this.lines?.push(chunk);
  }

  finish(): Verdict | 'unknown' {
    if (this.mode === 'json' && !this.overflow && this.size > 0) {
      this.verdict = classifyBytes(this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.size));
    } else this.lines?.end();
    this.pieces = [];
    return this.verdict ?? 'unknown';
  }

  private keep(piece: Buffer): void {
    if (this.overflow || piece.length === 0) return;
    this.size += piece.length;
    if (this.size > SNIFF_LIMIT_BYTES) {
      this.overflow = true;
      this.pieces = [];
      return;
    }
    this.pieces.push(piece);
  }
}
