import { isInitializeRequest, JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyReply } from 'fastify';
import type { WorkerErrorCode } from './errors.js';

/** JSON-RPC error numbers the MCP SDK uses for the same conditions. */
export const RPC = { parse: -32700, invalidRequest: -32600, server: -32000, sessionNotFound: -32001 } as const;

export interface JsonRpcErrorBody {
  readonly jsonrpc: '2.0';
  readonly error: { readonly code: number; readonly message: string; readonly data: { readonly code: WorkerErrorCode; readonly field?: string } };
  readonly id: string | number | null;
}

export function jsonRpcError(
  rpcCode: number,
  code: WorkerErrorCode,
  message: string,
  options: { id?: string | number | null; field?: string } = {},
): JsonRpcErrorBody {
  return {
    jsonrpc: '2.0',
    error: { code: rpcCode, message, data: { code, ...(options.field === undefined ? {} : { field: options.field }) } },
    id: options.id ?? null,
  };
}

export function sendJsonRpcError(reply: FastifyReply, status: number, body: JsonRpcErrorBody): FastifyReply {
  return reply.code(status).header('content-type', 'application/json').send(body);
}

export type ParsedBody =
  | { readonly ok: true; readonly raw: unknown; readonly messages: readonly JSONRPCMessage[]; readonly initialize: boolean }
  | { readonly ok: false; readonly error: JsonRpcErrorBody };

function idOf(value: unknown): string | number | null {
  if (value && typeof value === 'object' && 'id' in value) {
    const id = (value as { id: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') return id;
  }
  return null;
}

/** Pure: a POST body → JSON-RPC messages, or the coded error to answer with. */
export function parseJsonRpcBody(text: string): ParsedBody {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: jsonRpcError(RPC.parse, 'WVO_JSONRPC_PARSE', 'Parse error: body is not valid JSON', { field: 'body' }) };
  }
  const items = Array.isArray(raw) ? raw : [raw];
  if (items.length === 0) {
    return { ok: false, error: jsonRpcError(RPC.invalidRequest, 'WVO_JSONRPC_INVALID', 'Invalid Request: empty batch', { field: 'body' }) };
  }
  const messages: JSONRPCMessage[] = [];
  for (const [index, item] of items.entries()) {
    const parsed = JSONRPCMessageSchema.safeParse(item);
    if (!parsed.success) {
      const field = Array.isArray(raw) ? `body[${index}]` : 'body';
      return {
        ok: false,
        error: jsonRpcError(RPC.invalidRequest, 'WVO_JSONRPC_INVALID', 'Invalid Request: not a JSON-RPC 2.0 message', {
          id: idOf(item),
          field,
        }),
      };
    }
    messages.push(parsed.data);
  }
  return { ok: true, raw, messages, initialize: messages.some((message) => isInitializeRequest(message)) };
}
