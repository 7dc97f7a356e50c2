import { describe, expect, it } from 'vitest';
import { clientAnswers, isBusy, laneMessage, newInFlight, ServerRequestWatcher } from '../../controller/src/proxy/in-flight.js';
import { moveGate } from '../../controller/src/proxy/switch-rules.js';

const sse = (...messages: unknown[]) => Buffer.from(messages.map((m) => `event: message\ndata: ${JSON.stringify(m)}\n\n`).join(''));

describe('in-flight tracking', () => {
  it('reads lane → client requests and cancellations; skips responses and notifications', () => {
    expect(laneMessage(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'elicitation/create', params: {} })))).toEqual({ kind: 'request', key: '0' });
    expect(laneMessage(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 'a', method: 'sampling/createMessage' })))).toEqual({ kind: 'request', key: '"a"' });
    expect(laneMessage(Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3 } })))).toEqual({ kind: 'cancelled', key: '3' });
    expect(laneMessage(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 4, result: { text: '"method"' } })))).toBeUndefined();
    expect(laneMessage(Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1 } })))).toBeUndefined();
    expect(laneMessage(Buffer.from('{"method": broken'))).toBeUndefined();
  });

  it('reads the ids a client POST answers (single or batch), not its requests', () => {
    expect(clientAnswers(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 0, result: { action: 'accept' } })))).toEqual(['0']);
    expect(clientAnswers(Buffer.from(JSON.stringify([{ jsonrpc: '2.0', id: 'x', error: { code: 1 } }, { jsonrpc: '2.0', id: 2, method: 'ping' }])))).toEqual(['"x"']);
    expect(clientAnswers(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'result' } })))).toEqual([]);
    expect(clientAnswers(null)).toEqual([]);
  });

  it('a watcher records requests from SSE split across chunks; a POST stream forgets its own at its end', () => {
    const flight = newInFlight();
    const getStream = new ServerRequestWatcher(flight, undefined);
    getStream.start('text/event-stream');
    const bytes = sse({ jsonrpc: '2.0', id: 7, method: 'roots/list' });
    getStream.data(bytes.subarray(0, 20));
    expect(flight.asked.size).toBe(0);
    getStream.data(bytes.subarray(20));
    expect([...flight.asked.keys()]).toEqual(['7']);
    // split right after a whole line, then inside the "method" key
    const next = sse({ jsonrpc: '2.0', id: 9, method: 'ping' });
    const cut = next.indexOf('"meth') + 3;
    for (const piece of [next.subarray(0, 15), next.subarray(15, cut), next.subarray(cut)]) getStream.data(piece);
    expect([...flight.asked.keys()]).toEqual(['7', '9']);
    flight.asked.delete('9');

    const postStream = new ServerRequestWatcher(flight, {});
    postStream.start('text/event-stream; charset=utf-8');
    postStream.data(sse({ jsonrpc: '2.0', id: 8, method: 'elicitation/create' }, { jsonrpc: '2.0', id: 1, result: {} }));
    expect([...flight.asked.keys()]).toEqual(['7', '8']);
    postStream.end();
    expect([...flight.asked.keys()]).toEqual(['7']);
    getStream.data(sse({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7 } }));
    expect(isBusy(flight)).toBe(false);
    flight.posts = 1;
    expect(isBusy(flight)).toBe(true);
  });

  it('ignores JSON responses (no SSE, no server requests)', () => {
    const flight = newInFlight();
    const watcher = new ServerRequestWatcher(flight, {});
    watcher.start('application/json');
    watcher.data(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'x' }) + '\n'));
    expect(flight.asked.size).toBe(0);
  });
});

describe('moveGate', () => {
  const base = { busy: true, laneHealthy: true, dueSince: 1_000, now: 1_500, graceMs: 1_000 };
  it('waits while busy within the grace, goes when quiet, forces at the cap or on an unhealthy lane', () => {
    expect(moveGate(base)).toBe('wait');
    expect(moveGate({ ...base, busy: false })).toBe('go');
    expect(moveGate({ ...base, now: 2_000 })).toBe('force');
    expect(moveGate({ ...base, laneHealthy: false })).toBe('force');
    expect(moveGate({ ...base, graceMs: 0 })).toBe('force');
  });
});
