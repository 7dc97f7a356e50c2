import { describe, expect, it } from 'vitest';
import { INVALID_TOOL, SNIFF_LIMIT_BYTES, ToolResultSniffer, classifyResponse, toolCallName } from '../../controller/src/proxy/tool-call.js';

const body = (value: unknown) => Buffer.from(JSON.stringify(value));

function sniff(contentType: string, chunks: Array<string | Buffer>): string {
  const sniffer = new ToolResultSniffer();
  sniffer.start(contentType);
  for (const chunk of chunks) sniffer.data(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return sniffer.finish();
}

describe('tools/call sniffing', () => {
  it('reads the tool name of a single tools/call request only', () => {
    expect(toolCallName(body({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'plan_next', arguments: {} } }))).toBe('plan_next');
    expect(toolCallName(body({ jsonrpc: '2.0', id: 1, method: 'tools/list' }))).toBeUndefined();
    expect(toolCallName(body({ jsonrpc: '2.0', id: 1, method: 'ping', params: { note: 'tools/call' } }))).toBeUndefined();
    expect(toolCallName(body([{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }]))).toBeUndefined();
    expect(toolCallName(Buffer.from('{"method":"tools/call",'))).toBeUndefined();
    expect(toolCallName(null)).toBeUndefined();
    // client-chosen names become one label when they are not tool names
    expect(toolCallName(body({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'a b{}"' } }))).toBe(INVALID_TOOL);
    expect(toolCallName(body({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: {} }))).toBe(INVALID_TOOL);
  });

  it('classifies JSON-RPC responses', () => {
    expect(classifyResponse({ jsonrpc: '2.0', id: 1, result: { content: [] } })).toBe('ok');
    expect(classifyResponse({ jsonrpc: '2.0', id: 1, result: { content: [], isError: false } })).toBe('ok');
    expect(classifyResponse({ jsonrpc: '2.0', id: 1, result: { content: [], isError: true } })).toBe('tool_error');
    expect(classifyResponse({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'bad' } })).toBe('rpc_error');
    expect(classifyResponse({ jsonrpc: '2.0', method: 'notifications/progress', params: {} })).toBeUndefined();
  });

  it('application/json bodies split across chunks', () => {
    const text = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'x' }], isError: true } });
    expect(sniff('application/json', [text.slice(0, 10), text.slice(10)])).toBe('tool_error');
    expect(sniff('application/json; charset=utf-8', [JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} })])).toBe('ok');
    expect(sniff('application/json', ['{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"x"}}'])).toBe('rpc_error');
    // an error word inside a text result is escaped, so it is not taken for an error key
    expect(sniff('application/json', [JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: JSON.stringify({ error: 1 }) }] } })])).toBe('ok');
  });

  it('SSE: the last response on the stream counts; notifications before it do not; lines may span chunks', () => {
    const progress = `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1, error: 'no' } })}\n\n`;
    const answer = `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 3, result: { content: [], isError: true } })}\n\n`;
    const all = progress + answer;
    expect(sniff('text/event-stream', [all])).toBe('tool_error');
    const pieces = [];
    for (let i = 0; i < all.length; i += 7) pieces.push(all.slice(i, i + 7));
    expect(sniff('text/event-stream', pieces)).toBe('tool_error');
    expect(sniff('text/event-stream', [progress])).toBe('unknown');
    expect(sniff('text/event-stream', [`data: ${JSON.stringify({ jsonrpc: '2.0', id: 3, error: { code: 1, message: 'x' } })}\r\n\r\n`])).toBe('rpc_error');
    expect(sniff('text/event-stream', [`data: ${JSON.stringify({ jsonrpc: '2.0', id: 3, result: { content: [] } })}`])).toBe('ok');
  });

  it('gives up (unknown) past the size limit and on other content types', () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'x'.repeat(SNIFF_LIMIT_BYTES) }], isError: true } });
    expect(sniff('application/json', [big])).toBe('unknown');
    expect(sniff('text/event-stream', [`data: ${big}\n\n`])).toBe('unknown');
    expect(sniff('text/plain', ['{"result":{}}'])).toBe('unknown');
  });
});
