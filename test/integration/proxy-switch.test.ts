import { afterEach, describe, expect, it } from 'vitest';
import { sleep, startRig, TOKEN, type ProxyRig } from '../helpers/proxy-harness.js';

let rig: ProxyRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('proxy: forwarding and switching', () => {
  it('forwards MCP sessions to the active lane and keeps Host', async () => {
    rig = await startRig();
    const session = await rig.open();
    const result = await session.call('whoami');
    expect(result.value).toMatchObject({ lane: 'blue', session: session.sessionId });
    expect([...rig.blue.stats.hosts]).toEqual([new URL(rig.proxy.url).host]);
    const sessions = await rig.admin.sessions();
    expect(sessions.sessions.map((s) => s.id)).toEqual([session.sessionId]);
  });

  it('pins sessions while their lane drains, then moves them with the same client session id', async () => {
    rig = await startRig({ drainTimeoutMs: 400 });
    const old = await rig.open();
    expect((await old.call('increment')).value).toMatchObject({ lane: 'blue', counter: 1 });
    const result = await rig.admin.switchTo('green');
    expect(result).toMatchObject({ active: 'green', previous: 'blue', immediate: false });
    const fresh = await rig.open();
    expect((await fresh.call('whoami')).value).toMatchObject({ lane: 'green' });
    // still pinned while draining
    expect((await old.call('increment')).value).toMatchObject({ lane: 'blue', counter: 2 });
    await sleep(500);
    // after the deadline the session is re-initialized on green; the client keeps its id
    const moved = await old.call('whoami');
    expect(moved.isError).toBe(false);
    expect(moved.value).toMatchObject({ lane: 'green' });
    expect(old.sessionId).toMatch(/^blue-/);
    const view = (await rig.admin.sessions()).sessions.find((s) => s.id === old.sessionId)!;
    expect(view).toMatchObject({ lane: 'green', moved: 1 });
    expect(view.upstream_id).toMatch(/^green-/);
    // the old upstream session was closed on blue
    expect(rig.blue.stats.deletes).toBe(1);
  });

  it('policy expire answers 404 after the deadline', async () => {
    rig = await startRig({ drainTimeoutMs: 200, sessionPolicy: 'expire' });
    const old = await rig.open();
    await old.call('whoami');
    await rig.admin.switchTo('green');
    await sleep(300);
    const sessionId = old.sessionId!;
    const response = await fetch(`${rig.proxy.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
    });
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('WVO_PROXY_SESSION_EXPIRED');
    // the SDK client does not re-initialize: every later call fails with 404 (from the active lane)
    await expect(old.call('whoami')).rejects.toMatchObject({ code: 404 });
  });

  it('rollback moves sessions at once', async () => {
    rig = await startRig({ drainTimeoutMs: 60_000 });
    await rig.admin.switchTo('green');
    const onGreen = await rig.open();
    expect((await onGreen.call('whoami')).value).toMatchObject({ lane: 'green' });
    const result = await rig.admin.switchTo('blue', { rollback: true });
    expect(result.immediate).toBe(true);
    expect((await onGreen.call('whoami')).value).toMatchObject({ lane: 'blue' });
  });

  it('refuses to switch to an unhealthy lane and changes nothing', async () => {
    rig = await startRig();
    rig.green.setReady(false);
    await sleep(250);
    await expect(rig.admin.switchTo('green')).rejects.toMatchObject({ code: 'WVO_PROXY_LANE_UNHEALTHY' });
    expect((await rig.admin.lanes()).active).toBe('blue');
    await expect(rig.admin.switchTo('nope')).rejects.toMatchObject({ code: 'WVO_PROXY_LANE_UNKNOWN' });
    const session = await rig.open();
    expect((await session.call('whoami')).value).toMatchObject({ lane: 'blue' });
  });

  it('registering a lane answers with its health now, not after the next periodic check', async () => {
    rig = await startRig({ healthIntervalMs: 60_000 }); // no periodic check during this test
    rig.green.setReady(false);
    const first = await rig.admin.registerLane({ name: 'green-again', url: rig.green.url });
    expect(first).toMatchObject({ name: 'green-again', healthy: false });
    rig.green.setReady(true); // e.g. the kept lane restarted for a rollback
    const again = await rig.admin.registerLane({ name: 'green-again', url: rig.green.url });
    expect(again).toMatchObject({ name: 'green-again', healthy: true });
    expect((await rig.admin.switchTo('green-again')).active).toBe('green-again');
  });

  it('admin without or with a wrong token answers 401 and changes nothing', async () => {
    rig = await startRig();
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong' }, { authorization: TOKEN }];
    for (const headers of attempts) {
      for (const [method, path, body] of [
        ['POST', '/switch', { lane: 'green' }],
        ['POST', '/lanes', { name: 'red', url: 'http://127.0.0.1:1' }],
        ['POST', '/drain', { lane: 'green' }],
        ['GET', '/lanes', undefined],
        ['GET', '/sessions', undefined],
        ['GET', '/metrics', undefined],
      ] as const) {
        const response = await fetch(`${rig.proxy.adminUrl}${path}`, {
          method,
          headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        expect(response.status, `${method} ${path}`).toBe(401);
        expect(await response.json()).toMatchObject({ ok: false, error: { code: 'WVO_PROXY_UNAUTHORIZED' } });
      }
    }
    const lanes = await rig.admin.lanes();
    expect(lanes.active).toBe('blue');
    expect(lanes.lanes.map((l) => [l.name, l.role])).toEqual([
      ['blue', 'active'],
      ['green', 'retired'],
    ]);
  });

  it('re-initializes a session its lane lost (lane restart) and retries the request', async () => {
    rig = await startRig();
    const session = await rig.open();
    expect((await session.call('increment')).value).toMatchObject({ lane: 'blue', counter: 1 });
    const initializes = rig.blue.stats.initializes;
    await rig.blue.dropSessions();
    const again = await session.call('increment');
    expect(again.isError).toBe(false);
    expect(again.value).toMatchObject({ lane: 'blue', counter: 1 }); // a fresh upstream session
    expect(rig.blue.stats.initializes).toBe(initializes + 1);
    const view = (await rig.admin.sessions()).sessions[0]!;
    expect(view).toMatchObject({ id: session.sessionId, lane: 'blue', moved: 1 });
    expect(view.upstream_id).not.toBe(session.sessionId);
    expect(await rig.admin.metrics()).toMatch(/wvo_proxy_upstream_errors_total\{lane="blue",kind="session_lost"\} 1/);
  });

  it('DELETE forwards and drops the pin', async () => {
    rig = await startRig();
    const session = await rig.open();
    await session.call('whoami');
    expect((await rig.admin.sessions()).count).toBe(1);
    await session.close();
    expect(rig.blue.stats.deletes).toBe(1);
    expect((await rig.admin.sessions()).count).toBe(0);
  });
});
