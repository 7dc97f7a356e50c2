import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { dbPathFor, seedState } from '../../worker/src/index.js';
import { call, workerRig } from './worker-helpers.js';

const TOKEN = 'journal-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };

async function getJson(url: string, path: string, headers: Record<string, string> = auth): Promise<{ status: number; body: any }> {
  const response = await fetch(new URL(path, url), { headers });
  return { status: response.status, body: await response.json() };
}

async function putJson(url: string, path: string, body: unknown, headers: Record<string, string> = auth): Promise<{ status: number; body: any }> {
  const response = await fetch(new URL(path, url), { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

/** Every entry, paged as a soak reads them. */
async function readJournal(url: string, after = 0): Promise<any[]> {
  const entries: any[] = [];
  for (;;) {
    const page = await getJson(url, `/journal?after=${after}&limit=7`);
    expect(page.status).toBe(200);
    entries.push(...page.body.entries);
    if (page.body.next_after === after) return entries;
    after = page.body.next_after;
  }
}

describe('the live call journal (issue 11): same transaction, gap-free, read API, retention', () => {
  const rig = workerRig(TOKEN);
  afterEach(() => rig.release());
  const dir = rig.dir;
  const live = rig.start;
  const client = rig.client;

  it('journals write calls (answers, coded errors, times, ids, runs) and nothing else; a call that rolls back leaves no entry and no gap', async () => {
    const stateRoot = dir();
    seedState({ stateRoot, tasks: 30, seed: 5 });
    // A real failure inside report's transaction: SQLite aborts the insert, the call rolls back.
    const db = new Database(dbPathFor(stateRoot));
    db.exec("CREATE TRIGGER boom BEFORE INSERT ON reports WHEN NEW.notes = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END");
    db.close();
    const worker = await live(stateRoot);
    const agent = await client(worker.url);

    expect(await getJson(worker.url, '/journal/head')).toMatchObject({ status: 200, body: { head: 0, last_seq: 0, oldest: null, open: [], floor: null, retain: 100_000, mode: 'live' } });
    await call(agent, 'plan_next', { limit: 3 });
    await call(agent, 'orchestrator_status');
    const dispatched = await call(agent, 'dispatch', { agent: 'a1', command: { kind: 'exec', program: 'echo', args: ['hello'] } });
    expect(dispatched.isError).toBe(false);
    const taskId = dispatched.body.task.id as string;
    const crashed = await call(agent, 'report', { task_id: taskId, outcome: 'retry', notes: 'boom' });
    expect(crashed).toMatchObject({ isError: true, body: { code: 'WVO_INTERNAL' } });
    const invalid = await call(agent, 'report', { task_id: taskId, outcome: 'maybe' });
    expect(invalid.body.code).toBe('WVO_TOOL_INPUT_INVALID');
    const reported = await call(agent, 'report', { task_id: taskId, outcome: 'retry', notes: 'again' });
    expect(reported.isError).toBe(false);
    await call(agent, 'autopilot_status');

    const entries = await readJournal(worker.url);
    // Reads are not journaled; the crashed report left nothing; the numbers have no gap.
    expect(entries.map((entry) => [entry.seq, entry.tool, entry.status, entry.error_code])).toEqual([
      [1, 'dispatch', 'ok', null],
      [2, 'report', 'error', 'WVO_TOOL_INPUT_INVALID'],
      [3, 'report', 'ok', null],
    ]);
    const [dispatch, , report] = entries;
    expect(dispatch.args).toEqual({ agent: 'a1', command: { kind: 'exec', program: 'echo', args: ['hello'] } });
    expect(dispatch.times).toHaveLength(2);
    expect(dispatch.at).toBe(dispatch.times[0]);
    expect(dispatch.ids).toEqual({ dispatches: [dispatched.body.dispatch_id], events: [expect.any(Number), expect.any(Number)] });
    expect(dispatch.runs).toEqual([expect.objectContaining({ argv: ['echo', 'hello'], status: 'succeeded', stdout: 'hello', exit_code: 0 })]);
    expect(dispatch.answer_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(report.ids).toEqual({ reports: [reported.body.report_id], events: [expect.any(Number)] });

    // The journal row and the call's writes are one transaction: the row's ids are the rows written.
    await rig.stopAll();
    const check = new Database(dbPathFor(stateRoot), { readonly: true });
    try {
      const events = check.prepare('SELECT id, kind FROM events WHERE id IN (?, ?, ?) ORDER BY id').all(...dispatch.ids.events, ...report.ids.events);
      expect(events).toEqual([
        { id: dispatch.ids.events[0], kind: 'dispatched' },
        { id: dispatch.ids.events[1], kind: 'executed' },
        { id: report.ids.events[0], kind: 'reported' },
      ]);
      expect(check.prepare("SELECT COUNT(*) AS n FROM reports WHERE notes = 'boom'").get()).toEqual({ n: 0 });
    } finally {
      check.close();
    }
  });

  it('stays gap-free with two live processes and concurrent sessions writing one database', async () => {
    const stateRoot = dir();
    seedState({ stateRoot, tasks: 120, seed: 9 });
    const blue = await live(stateRoot);
    const green = await live(stateRoot);
    const agents = await Promise.all([blue.url, blue.url, green.url, green.url].map((url) => client(url)));
    const outcomes = await Promise.all(
      agents.map(async (agent, index) => {
        let writes = 0;
        for (let round = 0; round < 6; round += 1) {
          const claimed = await call(agent, 'dispatch', { agent: `agent-${index}`, command: { kind: 'noop' } });
          writes += 1;
          if (claimed.isError) continue;
          await call(agent, 'report', { task_id: claimed.body.task.id, outcome: round % 2 ? 'failed' : 'retry' });
          await call(agent, 'report', { task_id: 'T-NOPE', outcome: 'failed' });
          writes += 2;
        }
        return writes;
      }),
    );
    const total = outcomes.reduce((sum, n) => sum + n, 0);
    const entries = await readJournal(green.url);
    expect(entries.map((entry) => entry.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(entries.every((entry) => entry.status === 'ok' || entry.status === 'error')).toBe(true);
    expect(entries.filter((entry) => entry.error_code === 'WVO_TASK_NOT_FOUND')).toHaveLength(agents.length * 6);
  });

  it('read API: bearer token, coded bad parameters, after beyond head; retention keeps the newest and never prunes at or above the floor', async () => {
    const stateRoot = dir();
    seedState({ stateRoot, tasks: 10, seed: 3 });
    const worker = await live(stateRoot, { WVO_JOURNAL_RETAIN: '10' });
    const agent = await client(worker.url);
    const misses = async (n: number) => {
      for (let i = 0; i < n; i += 1) await call(agent, 'report', { task_id: `T-MISSING-${i}`, outcome: 'failed' });
    };

    expect(await getJson(worker.url, '/journal/head', {})).toMatchObject({ status: 401, body: { error: { code: 'WVO_ADMIN_UNAUTHORIZED' } } });
    expect(await getJson(worker.url, '/journal?after=-1')).toMatchObject({ status: 400, body: { error: { code: 'WVO_JOURNAL_PARAM_INVALID', subject: 'after' } } });
    expect(await getJson(worker.url, '/journal?limit=0')).toMatchObject({ status: 400, body: { error: { code: 'WVO_JOURNAL_PARAM_INVALID', subject: 'limit' } } });
    expect(await getJson(worker.url, '/journal?since=3')).toMatchObject({ status: 400, body: { error: { code: 'WVO_JOURNAL_PARAM_INVALID', subject: 'since' } } });
    expect(await putJson(worker.url, '/journal/floor', { seq: 'x' })).toMatchObject({ status: 400, body: { error: { code: 'WVO_JOURNAL_PARAM_INVALID', subject: 'seq' } } });

    expect(await putJson(worker.url, '/journal/floor', { seq: 5 })).toMatchObject({ status: 200, body: { ok: true, floor: 5 } });
    await misses(30);
    expect(await getJson(worker.url, '/journal?after=31')).toMatchObject({ status: 409, body: { error: { code: 'WVO_JOURNAL_AFTER_HEAD', details: { last_seq: 30 } } } });
    // Retention (10) would keep 21..30; the floor holds 5..30.
    expect((await getJson(worker.url, '/journal/head')).body).toMatchObject({ head: 30, oldest: 5, floor: 5, retain: 10 });
    expect((await readJournal(worker.url, 4)).map((entry) => entry.seq)).toEqual(Array.from({ length: 26 }, (_, i) => i + 5));
    expect(await getJson(worker.url, '/journal?after=3')).toMatchObject({ status: 410, body: { error: { code: 'WVO_JOURNAL_PRUNED', details: { oldest: 5 } } } });

    expect(await putJson(worker.url, '/journal/floor', { seq: null })).toMatchObject({ status: 200, body: { floor: null } });
    await misses(10);
    expect((await getJson(worker.url, '/journal/head')).body).toMatchObject({ head: 40, oldest: 31, floor: null });
    expect((await getJson(worker.url, '/journal?after=40')).body).toMatchObject({ entries: [], head: 40, next_after: 40 });
  });
});
