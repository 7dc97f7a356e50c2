import { afterEach, describe, expect, it } from 'vitest';
import { seedState } from '../../worker/src/index.js';
import { call, workerRig } from './worker-helpers.js';

const TOKEN = 'journal-wait-token';
const auth = { authorization: `Bearer ${TOKEN}` };

async function getJson(url: string, path: string): Promise<{ status: number; body: any; ms: number }> {
  const started = Date.now();
  const response = await fetch(new URL(path, url), { headers: auth });
  return { status: response.status, body: await response.json(), ms: Date.now() - started };
}

describe('GET /journal?wait= (issue 11): a long-poll answered by the next commit', () => {
  const rig = workerRig(TOKEN);
  afterEach(() => rig.release());

  it('holds an empty page until a write call commits, then answers with its entry', async () => {
    const stateRoot = rig.dir();
    seedState({ stateRoot, tasks: 10, seed: 3 });
    const worker = await rig.start(stateRoot);
    const agent = await rig.client(worker.url);
    const held = getJson(worker.url, '/journal?after=0&limit=10&wait=20000');
    // Read-only calls commit nothing: the request stays held through them.
    await call(agent, 'orchestrator_status');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const writtenAt = Date.now();
    const dispatched = await call(agent, 'dispatch', { agent: 'a1', command: { kind: 'exec', program: 'echo', args: ['hi'] } });
    expect(dispatched.isError).toBe(false);
    const page = await held;
    expect(page.status).toBe(200);
    expect(page.body.entries.map((entry: any) => [entry.seq, entry.tool])).toEqual([[1, 'dispatch']]);
    expect(page.body).toMatchObject({ head: 1, next_after: 1 });
    // Answered by the commit, not by the deadline (20 s): held at least until the write.
    expect(page.ms).toBeGreaterThanOrEqual(300);
    expect(Date.now() - writtenAt).toBeLessThan(10_000);
    // Entries already there: `wait` answers at once.
    const ready = await getJson(worker.url, '/journal?after=0&wait=20000');
    expect(ready.body.entries).toHaveLength(1);
    expect(ready.ms).toBeLessThan(10_000);
  });

  it('answers an empty page when the wait expires; a bad wait is a coded 400 naming it; shutdown does not wait for a held request', async () => {
    const stateRoot = rig.dir();
    seedState({ stateRoot, tasks: 5, seed: 4 });
    const worker = await rig.start(stateRoot);
    const expired = await getJson(worker.url, '/journal?after=0&wait=400');
    expect(expired).toMatchObject({ status: 200, body: { entries: [], head: 0, next_after: 0 } });
    expect(expired.ms).toBeGreaterThanOrEqual(380);
    for (const bad of ['-1', 'soon', '30001', '1.5']) {
      expect(await getJson(worker.url, `/journal?wait=${bad}`)).toMatchObject({ status: 400, body: { error: { code: 'WVO_JOURNAL_PARAM_INVALID', subject: 'wait' } } });
    }
    const held = getJson(worker.url, '/journal?after=0&wait=30000').catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stopping = Date.now();
    await worker.stop();
    expect(Date.now() - stopping).toBeLessThan(15_000);
    const outcome = await held;
    // Either the empty page (woken by the close) or a closed connection: never held to 30 s.
    if (!(outcome instanceof Error)) expect(outcome).toMatchObject({ status: 200, body: { entries: [] } });
  });
});
