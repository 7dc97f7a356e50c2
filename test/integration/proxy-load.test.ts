import { afterEach, describe, expect, it } from 'vitest';
import type { McpSession } from '../../common/src/mcp-client.js';
import { sleep, startRig, type ProxyRig } from '../helpers/proxy-harness.js';

let rig: ProxyRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

interface LoadStats {
  ok: number;
  failed: number;
  errors: string[];
  lanes: Map<string, number>;
}

/** Each session calls `increment` back to back until `stop` resolves; every failure is kept. */
function drive(sessions: McpSession[], stats: LoadStats, stopped: () => boolean): Promise<void[]> {
  return Promise.all(
    sessions.map(async (session) => {
      while (!stopped()) {
        try {
          const result = await session.call('increment');
          if (result.isError) throw new Error(`tool error: ${JSON.stringify(result.value)}`);
          const lane = (result.value as { lane: string }).lane;
          stats.lanes.set(lane, (stats.lanes.get(lane) ?? 0) + 1);
          stats.ok += 1;
        } catch (error) {
          stats.failed += 1;
          if (stats.errors.length < 5) stats.errors.push(String(error));
        }
        await sleep(2);
      }
    }),
  );
}

describe('proxy: load through a switch and a switch back', () => {
  it('keeps 60 SDK sessions answering with 0 failed requests', async () => {
    rig = await startRig({ drainTimeoutMs: 500 });
    const sessions = await Promise.all(Array.from({ length: 60 }, () => rig!.open()));
    const stats: LoadStats = { ok: 0, failed: 0, errors: [], lanes: new Map() };
    let stop = false;
    const load = drive(sessions, stats, () => stop);

    await sleep(400);
    expect((await rig.admin.switchTo('green')).active).toBe('green');
    // new sessions go to green at once and join the load
    const late = await Promise.all(Array.from({ length: 10 }, () => rig!.open()));
    for (const s of late) expect((await s.call('whoami')).value).toMatchObject({ lane: 'green' });
    const lateLoad = drive(late, stats, () => stop);
    await sleep(800); // past blue's drain deadline: blue sessions move to green
    expect((await rig.admin.switchTo('blue')).active).toBe('blue');
    await sleep(800); // past green's deadline: everything is back on blue
    stop = true;
    await Promise.all([load, lateLoad]);

    expect(stats.errors, stats.errors.join('\n')).toEqual([]);
    expect(stats.failed).toBe(0);
    expect(stats.ok).toBeGreaterThanOrEqual(sessions.length + late.length); // every session called at least once
    expect(stats.lanes.get('green') ?? 0).toBeGreaterThan(0);

    // every session opened before the switch still answers, on the active lane, with its own id
    for (const session of [...sessions, ...late]) {
      const result = await session.call('whoami');
      expect(result.isError).toBe(false);
      expect(result.value).toMatchObject({ lane: 'blue' });
    }
    const view = await rig.admin.sessions();
    expect(view.count).toBe(70);
    expect(view.sessions.every((s) => s.lane === 'blue')).toBe(true);
    const metrics = await rig.admin.metrics();
    expect(metrics).toMatch(/wvo_proxy_switches_total\{from="blue",to="green",mode="drain"\} 1/);
    expect(metrics).toMatch(/wvo_proxy_session_moves_total\{from="blue",to="green",result="ok"\} 60/);
    expect(metrics).not.toMatch(/result="failed"/);
    expect(metrics).toMatch(/wvo_proxy_requests_total\{lane="blue",code="200"\}/);
  });
});
