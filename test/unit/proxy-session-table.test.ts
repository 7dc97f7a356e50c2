import { describe, expect, it } from 'vitest';
import { SessionTable } from '../../controller/src/proxy/session-table.js';
import { restoreSessions, serializeSessions, SessionFileSchema } from '../../controller/src/proxy/session-store.js';
import { firstJsonRpcMessage } from '../../controller/src/proxy/session-mover.js';
import { isInitializeRequest } from '../../controller/src/proxy/router.js';
import { upstreamHeaders } from '../../controller/src/proxy/forward.js';

describe('session table', () => {
  it('maps client ids to a lane and an upstream id, rebinding on move', () => {
    const table = new SessionTable();
    const init = Buffer.from('{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}');
    const s = table.create({ clientId: 'blue-1', lane: 'blue', path: '/mcp', initialize: init, host: 'proxy:8080' }, 1_000);
    table.create({ clientId: 'blue-2', lane: 'blue', path: '/mcp' }, 1_000);
    expect(s.upstreamId).toBe('blue-1');
    table.rebind(s, 'green', 'green-9');
    expect(table.get('blue-1')).toMatchObject({ lane: 'green', upstreamId: 'green-9', moves: 1 });
    expect(Object.fromEntries(table.countByLane())).toEqual({ green: 1, blue: 1 });
    expect(table.onLane('blue').map((x) => x.clientId)).toEqual(['blue-2']);
    expect(SessionTable.view(s)).toMatchObject({ id: 'blue-1', lane: 'green', upstream_id: 'green-9', moved: 1, replayable: true });
    expect(SessionTable.view(table.get('blue-2')!).replayable).toBe(false);
  });

  it('round-trips through the session file shape (ids, lane, saved handshake)', () => {
    const table = new SessionTable();
    const changes: number[] = [];
    table.onChange = () => changes.push(1);
    const s = table.create({ clientId: 'blue-1', lane: 'blue', path: '/mcp', initialize: Buffer.from('{"method":"initialize"}'), host: 'h:1' }, 5);
    s.initialized = Buffer.from('{"method":"notifications/initialized"}');
    s.protocolVersion = '2025-06-18';
    table.rebind(s, 'green', 'green-2');
    table.create({ clientId: 'red-1', lane: 'red', path: '/mcp' }, 5);
    expect(changes).toHaveLength(3);
    const file = SessionFileSchema.parse(JSON.parse(JSON.stringify(serializeSessions(table.list()))));
    const copy = new SessionTable();
    expect(restoreSessions(copy, file, (lane) => lane !== 'red', 9)).toBe(1);
    const back = copy.get('blue-1')!;
    expect(back).toMatchObject({ lane: 'green', upstreamId: 'green-2', moves: 1, host: 'h:1', protocolVersion: '2025-06-18', path: '/mcp' });
    expect(back.initialize?.toString()).toBe('{"method":"initialize"}');
    expect(back.initialized?.toString()).toBe('{"method":"notifications/initialized"}');
    expect(copy.get('red-1')).toBeUndefined();
  });

  it('forgets idle sessions but never one with an open stream', () => {
    const table = new SessionTable();
    const a = table.create({ clientId: 'a', lane: 'blue', path: '/mcp' }, 0);
    table.create({ clientId: 'b', lane: 'blue', path: '/mcp' }, 0);
    a.streams.add({ close: () => undefined });
    expect(table.sweepIdle(10_000, 5_000).map((s) => s.clientId)).toEqual(['b']);
    expect(table.size).toBe(1);
    expect(table.remove('a')?.clientId).toBe('a');
    expect(table.remove('a')).toBeUndefined();
  });
});

describe('message helpers', () => {
  it('recognises a single initialize request only', () => {
    expect(isInitializeRequest(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}'))).toBe(true);
    expect(isInitializeRequest(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"initialize"}}'))).toBe(false);
    expect(isInitializeRequest(Buffer.from('not json "initialize"'))).toBe(false);
    expect(isInitializeRequest(null)).toBe(false);
  });

  it('reads the first JSON-RPC message from SSE or JSON bodies', () => {
    expect(firstJsonRpcMessage('text/event-stream', 'event: message\ndata: {"id":0,"result":{}}\n\n')).toEqual({ id: 0, result: {} });
    expect(firstJsonRpcMessage('application/json', '{"id":0,"error":{}}')).toEqual({ id: 0, error: {} });
    // An SDK server with an event store (server-everything) primes the stream with an empty data line.
    expect(firstJsonRpcMessage('text/event-stream', 'id: a1\ndata: \n\nevent: message\nid: a2\ndata: {"id":0,"result":{}}\n\n')).toEqual({ id: 0, result: {} });
  });

  it('forwards Host/Origin/protocol headers, drops hop-by-hop, rewrites the session id', () => {
    const raw = ['Host', 'proxy:8080', 'Connection', 'keep-alive', 'Mcp-Session-Id', 'client', 'Origin', 'http://x', 'Content-Length', '10', 'MCP-Protocol-Version', '2025-06-18', 'Last-Event-ID', '7'];
    expect(upstreamHeaders(raw, undefined)).toEqual(['Host', 'proxy:8080', 'Mcp-Session-Id', 'client', 'Origin', 'http://x', 'MCP-Protocol-Version', '2025-06-18', 'Last-Event-ID', '7']);
    expect(upstreamHeaders(raw, 'upstream')).toContain('upstream');
    expect(upstreamHeaders(raw, 'upstream')).not.toContain('client');
    // a Last-Event-ID cursor minted by the lane a session left means nothing on its new lane
    expect(upstreamHeaders(raw, 'upstream', true)).not.toContain('Last-Event-ID');
  });
});
