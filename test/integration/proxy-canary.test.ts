import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectMcp, type McpSession } from '../../common/src/mcp-client.js';
import { parsePromText, sumSeries } from '../../controller/src/promotion/parse-prom.js';
import { ProxyAdminClient, RouteTableSchema, seededRandom, startProxy, type RunningProxy } from '../../controller/src/proxy/index.js';
import { startFixtureServer, type FixtureServer } from '../fixtures/mcp-fixture-server.js';
import { startRig, TOKEN, waitUntil, type ProxyRig } from '../helpers/proxy-harness.js';

let cleanup: Array<() => Promise<unknown>> = [];
let rig: ProxyRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  cleanup = [];
});

/** The lane each of `n` new sessions must land on, replaying the proxy's draws from the same seed. */
/**
 * Where the proxy puts n new sessions opened one at a time at this weight (proxy/canary-split.ts):
 * a lane below its share of the pinned sessions takes the next one; only within one session of the
 * target does the seeded draw (one per session) decide.
 */
function expectedLanes(seed: number, n: number, weight: number): string[] {
  const random = seededRandom(seed);
  let green = 0;
  let blue = 0;
  return Array.from({ length: n }, () => {
    const draw = random() * 100;
    const deficit = (weight / 100) * (green + blue + 1) - green;
    const lane = deficit >= 1 ? 'green' : deficit <= 0 ? 'blue' : draw < deficit * 100 ? 'green' : 'blue';
    if (lane === 'green') green += 1;
    else blue += 1;
    return lane;
  });
}

async function laneOf(session: McpSession): Promise<string> {
  const result = await session.call('whoami');
  expect(result.isError).toBe(false);
  return (result.value as { lane: string }).lane;
}

async function openMany(open: () => Promise<McpSession>, n: number): Promise<McpSession[]> {
  const sessions: McpSession[] = [];
  // one at a time: each initialize takes the next draw, in order
  for (let i = 0; i < n; i++) sessions.push(await open());
  return sessions;
}

describe('proxy: weighted canary', () => {
  it('weight 30 with a seeded source: exactly the expected new sessions land on the candidate; sessions stay pinned across weight changes', async () => {
    rig = await startRig({ random: seededRandom(1234), drainTimeoutMs: 60_000 });
    const set = await rig.admin.setWeights('green', 30);
    expect(set).toMatchObject({ ok: true, canary: { candidate: 'green', weight: 30, active: 'blue' }, noop: false });
    const lanes = await rig.admin.lanes();
    expect(lanes.canary).toEqual({ candidate: 'green', weight: 30, active: 'blue' });
    expect(lanes.lanes.map((l) => [l.name, l.role, l.weight])).toEqual([
      ['blue', 'active', 70],
      ['green', 'canary', 30],
    ]);
    expect((await rig.admin.health()).canary).toEqual({ candidate: 'green', weight: 30, active: 'blue' });

    const expected = expectedLanes(1234, 20, 30);
    const onGreen = expected.filter((l) => l === 'green').length;
    expect(onGreen).toBeGreaterThan(0); // the seed exercises both lanes, or this test proves nothing
    expect(onGreen).toBeLessThan(20);
    const sessions = await openMany(() => rig!.open(), 20);
    const actual = await Promise.all(sessions.map(laneOf));
    expect(actual).toEqual(expected);
    expect(rig.green.stats.initializes).toBe(onGreen);
    expect(rig.blue.stats.initializes).toBe(20 - onGreen);
    const pins = new Map((await rig.admin.sessions()).sessions.map((s) => [s.id, s.lane]));
    expect(sessions.map((s) => pins.get(s.sessionId!))).toEqual(expected);

    // weight changes (both ways): every session keeps its lane, new ones follow the new weight
    await rig.admin.setWeights('green', 100);
    expect(await Promise.all(sessions.map(laneOf))).toEqual(expected);
    const all = await openMany(() => rig!.open(), 3);
    expect(await Promise.all(all.map(laneOf))).toEqual(['green', 'green', 'green']);
    await rig.admin.setWeights('green', 0);
    expect(await Promise.all(sessions.map(laneOf))).toEqual(expected);
    const none = await openMany(() => rig!.open(), 3);
    expect(await Promise.all(none.map(laneOf))).toEqual(['blue', 'blue', 'blue']);

    // clearing the split drains the candidate: its sessions stay pinned until the deadline
    const cleared = await rig.admin.clearWeights();
    expect(cleared).toMatchObject({ canary: null, ended: { lane: 'green' }, noop: false });
    expect((await rig.admin.lanes()).lanes.find((l) => l.name === 'green')?.role).toBe('draining');
    expect(await Promise.all(sessions.map(laneOf))).toEqual(expected);
  });

  it('a switch to the candidate ends the split; a rollback switch moves the candidate\'s sessions back at once', async () => {
    rig = await startRig({ random: seededRandom(99), drainTimeoutMs: 60_000 });
    await rig.admin.setWeights('green', 100);
    const canarySession = await rig.open();
    expect(await laneOf(canarySession)).toBe('green');
    // roll back: the switch to the (already) active lane is no no-op while a split is set
    const back = await rig.admin.switchTo('blue', { rollback: true });
    expect(back).toMatchObject({ active: 'blue', noop: false, immediate: true });
    expect((await rig.admin.lanes()).canary).toBeNull();
    expect(await laneOf(canarySession)).toBe('blue');

    await rig.admin.setWeights('green', 50);
    const promoted = await rig.admin.switchTo('green');
    expect(promoted).toMatchObject({ active: 'green', previous: 'blue', noop: false });
    const lanes = await rig.admin.lanes();
    expect(lanes.canary).toBeNull();
    expect(lanes.lanes.map((l) => [l.name, l.role, l.weight ?? null])).toEqual([
      ['blue', 'draining', null],
      ['green', 'active', 100],
    ]);
    expect(await laneOf(await rig.open())).toBe('green');
  });

  it('bad input is refused with a code naming the field, and nothing changes', async () => {
    rig = await startRig();
    const bad = async (candidate: unknown, weight: unknown) => {
      const response = await fetch(`${rig!.proxy.adminUrl}/weights`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ candidate, weight }),
      });
      return { status: response.status, error: ((await response.json()) as { error: { code: string; subject?: string } }).error };
    };
    expect(await bad('green', 101)).toEqual({ status: 400, error: expect.objectContaining({ code: 'WVO_PROXY_WEIGHT_INVALID', subject: 'weight' }) });
    expect(await bad('green', -5)).toEqual({ status: 400, error: expect.objectContaining({ code: 'WVO_PROXY_WEIGHT_INVALID', subject: 'weight' }) });
    expect(await bad('green', '30')).toEqual({ status: 400, error: expect.objectContaining({ code: 'WVO_PROXY_BAD_REQUEST', subject: 'weight' }) });
    expect(await bad('nope', 10)).toEqual({ status: 404, error: expect.objectContaining({ code: 'WVO_PROXY_LANE_UNKNOWN', subject: 'candidate' }) });
    expect(await bad('blue', 10)).toEqual({ status: 409, error: expect.objectContaining({ code: 'WVO_PROXY_LANE_ACTIVE', subject: 'candidate' }) });
    rig.green.setReady(false);
    await waitUntil(async () => !(await rig!.admin.lanes()).lanes.find((l) => l.name === 'green')!.healthy);
    await expect(rig.admin.setWeights('green', 10)).rejects.toMatchObject({ code: 'WVO_PROXY_LANE_UNHEALTHY', subject: 'candidate' });
    const unauthorized = new ProxyAdminClient({ url: rig.proxy.adminUrl, token: 'wrong' });
    cleanup.push(() => unauthorized.close());
    await expect(unauthorized.setWeights('green', 10)).rejects.toMatchObject({ code: 'WVO_PROXY_UNAUTHORIZED' });
    expect((await rig.admin.lanes()).canary).toBeNull();
    const table = RouteTableSchema.parse(JSON.parse(await readFile(join(rig.dir, 'routes.json'), 'utf8')));
    expect(table.canary).toBeUndefined();
  });

  it('the split survives a proxy restart (route table), and routing continues from the new source', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wvo-proxy-canary-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const blue: FixtureServer = await startFixtureServer({ lane: 'blue' });
    const green: FixtureServer = await startFixtureServer({ lane: 'green' });
    cleanup.push(() => blue.close(), () => green.close());
    const statePath = join(dir, 'routes.json');
    const start = (seed: number) =>
      startProxy({
        listen: '127.0.0.1:0',
        admin: '127.0.0.1:0',
        token: TOKEN,
        statePath,
        lanes: [
          { name: 'blue', url: blue.url },
          { name: 'green', url: green.url },
        ],
        active: 'blue',
        healthIntervalMs: 100,
        random: seededRandom(seed),
      });
    const first: RunningProxy = await start(1);
    cleanup.push(() => first.close());
    const admin1 = new ProxyAdminClient({ url: first.adminUrl, token: TOKEN });
    cleanup.push(() => admin1.close());
    await waitUntil(async () => (await admin1.lanes()).lanes.every((l) => l.healthy));
    await admin1.setWeights('green', 30);
    expect(RouteTableSchema.parse(JSON.parse(await readFile(statePath, 'utf8'))).canary).toEqual({ lane: 'green', weight: 30 });
    await first.close();

    const second = await start(5);
    cleanup.push(() => second.close());
    const admin2 = new ProxyAdminClient({ url: second.adminUrl, token: TOKEN });
    cleanup.push(() => admin2.close());
    expect((await admin2.lanes()).canary).toEqual({ candidate: 'green', weight: 30, active: 'blue' });
    await waitUntil(async () => (await admin2.lanes()).lanes.every((l) => l.healthy));
    const sessions: McpSession[] = [];
    cleanup.push(() => Promise.all(sessions.map((s) => s.client.close())));
    for (let i = 0; i < 12; i++) sessions.push(await connectMcp(`${second.url}/mcp`));
    expect(await Promise.all(sessions.map(laneOf))).toEqual(expectedLanes(5, 12, 30));
  });

  it('counts tools/call per lane and tool: latency, ok, tool errors (isError) and JSON-RPC errors', async () => {
    rig = await startRig({ random: seededRandom(3) });
    await rig.admin.setWeights('green', 50);
    const sessions = await openMany(() => rig!.open(), 6);
    const lanes = await Promise.all(sessions.map(laneOf)); // one whoami each
    for (const session of sessions) {
      expect((await session.call('no_such_tool')).isError).toBe(true);
      await session.call('sleep', { ms: 30 });
    }
    // a tools/call the lane answers with a JSON-RPC error (no tool name: invalid params)
    const raw = await fetch(`${rig.proxy.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessions[0]!.sessionId!,
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 77, method: 'tools/call', params: { arguments: {} } }),
    });
    expect(await raw.text()).toContain('"error"');
    const samples = parsePromText(await rig.admin.metrics());
    const count = (lane: string, tool: string, outcome: string) => sumSeries(samples, 'wvo_proxy_tool_calls_total', { lane, tool, outcome });
    const n = (lane: string) => lanes.filter((l) => l === lane).length;
    expect(n('green')).toBeGreaterThan(0);
    expect(n('blue')).toBeGreaterThan(0);
    for (const lane of ['blue', 'green']) {
      expect(count(lane, 'whoami', 'ok')).toBe(n(lane));
      expect(count(lane, 'no_such_tool', 'tool_error')).toBe(n(lane));
      expect(count(lane, 'no_such_tool', 'ok')).toBe(0);
      expect(count(lane, 'sleep', 'ok')).toBe(n(lane));
      expect(sumSeries(samples, 'wvo_proxy_tool_call_duration_seconds_count', { lane, tool: 'sleep' })).toBe(n(lane));
      // 30 ms sleeps: none under 25 ms
      expect(sumSeries(samples, 'wvo_proxy_tool_call_duration_seconds_bucket', { lane, tool: 'sleep', le: '0.025' })).toBe(0);
    }
    expect(count(lanes[0]!, '_invalid', 'rpc_error')).toBe(1);
    expect(sumSeries(samples, 'wvo_proxy_lane_weight', { lane: 'green' })).toBe(50);
    // non-tool requests (initialize, notifications) are not counted as tool calls
    expect(sumSeries(samples, 'wvo_proxy_tool_calls_total', {})).toBe(6 * 3 + 1);
  });
});
