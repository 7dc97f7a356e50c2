import Database from 'better-sqlite3';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { compareDatabases } from '../../controller/src/state/index.js';
import { dbPathFor, seedState } from '../../worker/src/index.js';
import { call, workerRig } from './worker-helpers.js';

const TOKEN = 'replay-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };
/** Journal bookkeeping and the live executor's records: state of the lane, not of the orchestrator. */
const LANE_TABLES = ['executor_runs.*', 'journal.*', 'journal_floor.*', 'sqlite_sequence.*'];

async function journal(url: string): Promise<any[]> {
  const entries: any[] = [];
  let after = 0;
  for (;;) {
    const page = (await (await fetch(`${url}/journal?after=${after}&limit=50`, { headers: auth })).json()) as { entries: any[]; next_after: number };
    entries.push(...page.entries);
    if (page.next_after === after) return entries;
    after = page.next_after;
  }
}

/** One agent's mixed traffic: reads, dispatch → verify → report, and calls that fail with a coded error. */
async function agentLoop(client: Client, name: string, rounds: number): Promise<number> {
  let writes = 0;
  for (let round = 0; round < rounds; round += 1) {
    await call(client, 'plan_next', { limit: 3 });
    const dispatched = await call(client, 'dispatch', { agent: name });
    writes += 1;
    if (dispatched.isError) continue;
    const taskId = dispatched.body.task.id as string;
    const verified = await call(client, 'verify', { task_id: taskId });
    writes += 1;
    const outcome = !verified.isError && verified.body.passed ? 'done' : round % 2 ? 'retry' : 'failed';
    await call(client, 'report', { task_id: taskId, outcome, agent: name, notes: `round ${round}` });
    writes += 1;
    await call(client, 'orchestrator_status');
    await call(client, 'verify', { task_id: taskId }); // no longer in progress: WVO_TASK_STATE
    writes += 1;
  }
  return writes;
}

describe('deterministic replay (issue 11): a sandbox fork replaying the live journal reproduces every answer and the state', () => {
  const rig = workerRig(TOKEN);
  afterEach(() => rig.release());
  const dir = rig.dir;
  const start = rig.start;
  const client = rig.client;

  it('3 concurrent clients on live; the fork replays every entry with wvo/replay: digests equal N/N, databases equal', async () => {
    const liveRoot = dir();
    seedState({ stateRoot: liveRoot, tasks: 80, seed: 21 });
    const live = await start(liveRoot);
    const headAtFork = ((await (await fetch(`${live.url}/journal/head`, { headers: auth })).json()) as { head: number }).head;
    // The fork: a consistent copy through SQLite, taken before the traffic, at `headAtFork`.
    const forkRoot = dir();
    const source = new Database(dbPathFor(liveRoot), { readonly: true });
    source.exec(`VACUUM INTO '${dbPathFor(forkRoot)}'`);
    source.close();

    const agents = await Promise.all(['a', 'b', 'c'].map((name) => client(live.url, `agent-${name}`)));
    const flag = fetch(`${live.url}/admin/flags/PROMPT_MODE`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: '{"value":"on"}' });
    const writes = await Promise.all(agents.map((agent, index) => agentLoop(agent, `agent-${index}`, 6)));
    expect((await flag).status).toBe(200);
    const entries = await journal(live.url);
    expect(entries.map((entry) => entry.seq)).toEqual(Array.from({ length: entries.length }, (_, i) => headAtFork + i + 1));
    expect(entries).toHaveLength(writes.reduce((sum, n) => sum + n, 0) + 1);
    expect(new Set(entries.map((entry) => entry.tool))).toEqual(new Set(['dispatch', 'verify', 'report', 'admin.set_flag']));
    await rig.stopAll();

    const sandbox = await start(forkRoot, { WVO_SANDBOX: '1' });
    const replayer = await client(sandbox.url, 'soak');
    let equal = 0;
    const mismatches: unknown[] = [];
    for (const entry of entries) {
      let meta: any;
      if (entry.tool === 'admin.set_flag') {
        const response = await fetch(`${sandbox.url}/admin/flags/${entry.args.flag}`, {
          method: 'PUT',
          headers: { ...auth, 'content-type': 'application/json', 'wvo-replay': JSON.stringify(entry) },
          body: JSON.stringify({ value: entry.args.value }),
        });
        meta = ((await response.json()) as any)._meta['wvo/replay'];
      } else {
        const result = await replayer.callTool({ name: entry.tool, arguments: entry.args, _meta: { 'wvo/replay': entry } });
        meta = (result._meta as any)['wvo/replay'];
      }
      expect(meta.seq).toBe(entry.seq);
      if (meta.answer_sha256 === entry.answer_sha256 && meta.answer_matches === true) equal += 1;
      if (meta.mismatches.length > 0) mismatches.push({ seq: entry.seq, tool: entry.tool, mismatches: meta.mismatches });
    }
    // The noise floor, reported by the test run.
    console.log(`[replay] ${entries.length} calls replayed, digests equal ${equal}/${entries.length}, id/run mismatches ${mismatches.length}`);
    expect(mismatches).toEqual([]);
    expect(equal).toBe(entries.length);
    const forkHead = (await (await fetch(`${sandbox.url}/journal/head`, { headers: auth })).json()) as { head: number };
    expect(forkHead.head).toBe(entries.at(-1).seq);
    // Replaying an entry twice is refused and changes nothing.
    const first = entries.find((entry) => entry.tool !== 'admin.set_flag');
    const again = await replayer.callTool({ name: first.tool, arguments: first.args, _meta: { 'wvo/replay': first } });
    expect(again.isError).toBe(true);
    expect(JSON.parse((again.content as Array<{ text: string }>)[0]!.text)).toMatchObject({ code: 'WVO_REPLAY_OUT_OF_ORDER', details: { expected: forkHead.head + 1 } });
    await rig.stopAll();

    const parity = compareDatabases(dbPathFor(liveRoot), dbPathFor(forkRoot), { ignore: LANE_TABLES });
    const differing = parity.tables.filter((table) => !table.equal).map((table) => ({ table: table.name, rows: table.differing_rows, first: table.differences[0] }));
    expect(differing).toEqual([]);
    expect(parity.equal).toBe(true);
    // AUTOINCREMENT counters agree too (but the executor's, which only the live lane advances).
    const counters = (path: string) => {
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare("SELECT name, seq FROM sqlite_sequence WHERE name != 'executor_runs' ORDER BY name").all();
      } finally {
        db.close();
      }
    };
    expect(counters(dbPathFor(forkRoot))).toEqual(counters(dbPathFor(liveRoot)));
  });

  it('refuses wvo/replay on a live lane and on read-only tools; a sandbox answers WVO_REPLAY_OUT_OF_ORDER for a gap', async () => {
    const stateRoot = dir();
    seedState({ stateRoot, tasks: 10, seed: 4 });
    const live = await start(stateRoot);
    const liveClient = await client(live.url, 'live');
    const meta = { 'wvo/replay': { seq: 1, at: '2025-01-01T00:00:00.000Z' } };
    const onLive = await liveClient.callTool({ name: 'report', arguments: { task_id: 'T-0001', outcome: 'failed' }, _meta: meta });
    expect(JSON.parse((onLive.content as Array<{ text: string }>)[0]!.text)).toMatchObject({ code: 'WVO_REPLAY_NOT_SANDBOX', field: '_meta.wvo/replay' });
    const flagOnLive = await fetch(`${live.url}/admin/flags/PROMPT_MODE`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json', 'wvo-replay': JSON.stringify(meta['wvo/replay']) },
      body: '{"value":"on"}',
    });
    expect(flagOnLive.status).toBe(409);
    expect(((await flagOnLive.json()) as any).error.code).toBe('WVO_REPLAY_NOT_SANDBOX');
    expect(((await (await fetch(`${live.url}/journal/head`, { headers: auth })).json()) as any).last_seq).toBe(0);
    await rig.stopAll();

    const sandbox = await start(stateRoot, { WVO_SANDBOX: '1' });
    const replayer = await client(sandbox.url, 'soak');
    const text = async (name: string, args: Record<string, unknown>, replay: unknown) =>
      JSON.parse(((await replayer.callTool({ name, arguments: args, _meta: { 'wvo/replay': replay } })).content as Array<{ text: string }>)[0]!.text);
    expect(await text('plan_next', {}, meta['wvo/replay'])).toMatchObject({ code: 'WVO_REPLAY_INVALID' });
    expect(await text('report', { task_id: 'T-0001', outcome: 'failed' }, { seq: 1, at: 'yesterday' })).toMatchObject({
      code: 'WVO_REPLAY_INVALID',
      field: '_meta.wvo/replay.at',
    });
    expect(await text('report', { task_id: 'T-0001', outcome: 'failed' }, { seq: 3, at: '2025-01-01T00:00:00.000Z' })).toMatchObject({
      code: 'WVO_REPLAY_OUT_OF_ORDER',
      details: { expected: 1, got: 3 },
    });
    expect(((await (await fetch(`${sandbox.url}/journal/head`, { headers: auth })).json()) as any).last_seq).toBe(0);
  });
});
