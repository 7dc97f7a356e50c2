import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultSuite,
  LaneClient,
  runShadow,
  runSuite,
  validateSuite,
  type Lane,
  type ShadowProgress,
  type ShadowResult,
} from '../../controller/src/shadow/index.js';
import { seedState, startWorker, type WorkerHandle } from '../../worker/src/index.js';
import { startShadowFixture, type ShadowFixtureBehaviour, type ShadowFixtureServer } from '../fixtures/shadow-mcp-server.js';

const FIXTURE_SUITE = validateSuite({
  ignore: [],
  calls: [
    { name: 'top', tool: 'plan_next', arguments: { limit: 2 } },
    { name: 'all', tool: 'plan_next', arguments: { limit: 5 } },
    { name: 'status', tool: 'orchestrator_status' },
    { name: 'status again', tool: 'orchestrator_status' },
    { name: 'echo top', tool: 'echo', arguments: { value: { $from: 'top', path: '$.tasks[0].id' } } },
    { name: 'fail', tool: 'fail' },
  ],
});

const reportedPaths = (result: ShadowResult) => result.diffs.filter((d) => d.reported).map((d) => `${d.tool} ${d.path}`);

describe('shadow runner against fixture MCP servers', () => {
  const started: ShadowFixtureServer[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((server) => server.close()));
  });

  async function lanes(behaviours: Partial<Record<Lane, ShadowFixtureBehaviour>> = {}) {
    const [baseline, replica, candidate] = await Promise.all(
      (['baseline', 'replica', 'candidate'] as const).map((lane) => startShadowFixture(behaviours[lane])),
    );
    started.push(baseline!, replica!, candidate!);
    return { baseline: baseline!.url, replica: replica!.url, candidate: candidate!.url };
  }

  it('reports nothing for three identical servers, 5 runs of 5, despite ids and timestamps', async () => {
    const urls = await lanes({ baseline: { load: 100 }, replica: { load: 104 }, candidate: { load: 103 } });
    for (let run = 0; run < 5; run++) {
      const result = await runShadow({ lanes: urls, suite: FIXTURE_SUITE, suiteSource: 'fixture suite' });
      expect(reportedPaths(result), `run ${run}`).toEqual([]);
      // The noise was seen and cancelled, not missed.
      expect(result.diffs.some((d) => d.path === '$.request_id' && d.verdict === 'noise')).toBe(true);
      expect(result.calls.map((c) => c.is_error.baseline)).toEqual([false, false, false, false, false, true]);
      expect(result.calls[4]?.arguments).toEqual({ value: 'T-02' });
    }
  });

  it('reports a changed ordering in plan_next with the right tool and path', async () => {
    const result = await runShadow({ lanes: await lanes({ candidate: { reverseTies: true } }), suite: FIXTURE_SUITE });
    // Priorities 9, 7, then three 5s: the tie order flips at index 2 and 4 (only `all` reaches them).
    expect(reportedPaths(result)).toEqual([
      'plan_next $.tasks[2].id',
      'plan_next $.tasks[2].title',
      'plan_next $.tasks[4].id',
      'plan_next $.tasks[4].title',
    ]);
    const diff = result.diffs.find((d) => d.reported)!;
    expect(diff).toMatchObject({ call_name: 'all', call_index: 1, arguments: { limit: 5 }, baseline: 'T-01', replica: 'T-01', candidate: 'T-05' });
  });

  it('reports a renamed field in orchestrator_status', async () => {
    const result = await runShadow({ lanes: await lanes({ candidate: { renameReady: true } }), suite: FIXTURE_SUITE });
    expect(reportedPaths(result)).toEqual([
      'orchestrator_status $.queue.pending',
      'orchestrator_status $.queue.ready',
      'orchestrator_status $.queue.pending',
      'orchestrator_status $.queue.ready',
    ]);
    expect(result.diffs.filter((d) => d.reported).map((d) => d.kind)).toEqual(['added', 'removed', 'added', 'removed']);
  });

  it('reports a number clearly outside the baseline-vs-replica noise, and cancels one inside it', async () => {
    const outside = await runShadow({
      lanes: await lanes({ baseline: { load: 100 }, replica: { load: 104 }, candidate: { load: 400 } }),
      suite: FIXTURE_SUITE,
    });
    expect(reportedPaths(outside)).toEqual(['orchestrator_status $.load', 'orchestrator_status $.load']);
    expect(outside.diffs.find((d) => d.reported)).toMatchObject({ baseline: 100, replica: 104, candidate: 400 });
    const inside = await runShadow({
      lanes: await lanes({ baseline: { load: 100 }, replica: { load: 104 }, candidate: { load: 108 } }),
      suite: FIXTURE_SUITE,
    });
    expect(reportedPaths(inside)).toEqual([]);
  });

  it('checks the suite against the baseline tools/list, and reports a tool the candidate lost', async () => {
    const unknown = validateSuite({ calls: [{ tool: 'plan_next' }, { tool: 'plan_nxet' }] });
    await expect(runShadow({ lanes: await lanes(), suite: unknown, suiteSource: 'typo.json' })).rejects.toMatchObject({
      code: 'WVO_SUITE_UNKNOWN_TOOL',
      details: { index: 1, tool: 'plan_nxet' },
    });
    const lost = await runShadow({ lanes: await lanes({ candidate: { withoutEcho: true } }), suite: FIXTURE_SUITE });
    expect(reportedPaths(lost)).toContain('echo isError');
  });

  it('reports progress for every lane and call, and closes its sessions', async () => {
    const events: ShadowProgress[] = [];
    await runShadow({ lanes: await lanes(), suite: FIXTURE_SUITE, onProgress: (event) => events.push(event) });
    expect(events.filter((e) => e.type === 'connected').map((e) => e.type === 'connected' && e.lane).sort()).toEqual([
      'baseline',
      'candidate',
      'replica',
    ]);
    expect(events.filter((e) => e.type === 'call').map((e) => e.type === 'call' && e.name)).toEqual(FIXTURE_SUITE.calls.map((c) => c.name));
  });

  it('records a timeout as the answer (compared like any other), and stops at once when aborted', async () => {
    const urls = await lanes();
    const suite = validateSuite({ calls: [{ tool: 'slow', arguments: { ms: 400 } }, { tool: 'echo', arguments: { value: 1 } }] });
    const result = await runShadow({ lanes: urls, suite, callTimeoutMs: 100 });
    expect(result.calls[0]?.is_error).toEqual({ baseline: true, replica: true, candidate: true });
    expect(result.calls[0]?.reported).toBe(0);
    expect(result.calls[1]?.is_error.baseline).toBe(false);
    const controller = new AbortController();
    const aborted = runShadow({ lanes: urls, suite, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('operator pressed Ctrl-C')), 100);
    await expect(aborted).rejects.toThrow('operator pressed Ctrl-C');
  });

  it('fails with a coded error naming the lane when a lane does not answer', async () => {
    const urls = await lanes();
    const dead = await startShadowFixture();
    const deadUrl = dead.url;
    await dead.close();
    await expect(runShadow({ lanes: { ...urls, candidate: deadUrl }, suite: FIXTURE_SUITE })).rejects.toMatchObject({
      code: 'WVO_SHADOW_LANE_UNREACHABLE',
      details: { lane: 'candidate', url: deadUrl },
    });
  });

  it('drives any MCP server with a single lane (runSuite) and records JSON-RPC errors as answers', async () => {
    const [server] = [await startShadowFixture()];
    started.push(server!);
    const suite = validateSuite({ calls: [{ tool: 'plan_next', arguments: { limit: 0 } }, { tool: 'echo', arguments: { value: [1, 'a'] } }] });
    const run = await runSuite({ lanes: { only: server!.url }, suite });
    expect(run.tools.only).toEqual(expect.arrayContaining(['plan_next', 'echo', 'fail', 'slow', 'orchestrator_status']));
    expect(run.calls[0]?.outcomes.only.isError).toBe(true); // invalid arguments: the server refuses
    expect(run.calls[1]?.outcomes.only).toMatchObject({ isError: false, result: { value: [1, 'a'] } });
    const client = await LaneClient.connect('only', server!.url.replace(/\/mcp$/, ''));
    try {
      expect(await client.listTools()).toContain('echo'); // a bare origin means /mcp
    } finally {
      await client.close();
    }
  });
});

/**
 * The real worker (worker/src) in three DRY_RUN lanes on copies of one seeded state, driven by
 * the default suite: what `wvo upgrade` does, minus containers.
 */
describe('shadow runner against the real worker (default suite)', () => {
  let root: string;
  let seedDir: string;
  const workers: WorkerHandle[] = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'wvo-shadow-runner-'));
    seedDir = join(root, 'seed');
    seedState({ stateRoot: seedDir, tasks: 120, seed: 42 });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.close()));
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  async function workerLanes(candidate: { flags?: Record<string, string> } = {}, tag = 'run') {
    const urls = {} as Record<Lane, string>;
    for (const lane of ['baseline', 'replica', 'candidate'] as const) {
      const stateRoot = join(root, `${tag}-${lane}`);
      cpSync(seedDir, stateRoot, { recursive: true });
      const worker = await startWorker({
        stateRoot,
        port: 0,
        dryRun: true,
        ...(lane === 'candidate' && candidate.flags ? { flags: candidate.flags as never } : {}),
      });
      workers.push(worker);
      urls[lane] = worker.url;
    }
    return urls;
  }

  it('reports 0 differences for a no-op comparison, 5 runs of 5', async () => {
    const urls = await workerLanes({}, 'noop');
    // No tool lists in-progress tasks, so the default suite cannot reach verify's and report's
    // success paths on its own; the test adds calls for tasks it reads from the seeded database.
    const db = new Database(join(seedDir, 'orchestrator.db'), { readonly: true });
    const inProgress = (db.prepare("SELECT id FROM tasks WHERE status = 'in_progress' ORDER BY id LIMIT 2").all() as { id: string }[]).map(
      (row) => row.id,
    );
    db.close();
    expect(inProgress).toHaveLength(2);
    const base = defaultSuite();
    const suite = validateSuite({
      ...base,
      calls: [
        ...base.calls,
        { name: 'verify in progress', tool: 'verify', arguments: { task_id: inProgress[0] } },
        { name: 'report retry in progress', tool: 'report', arguments: { task_id: inProgress[1], outcome: 'retry', notes: 'shadow' } },
        { name: 'report failed in progress', tool: 'report', arguments: { task_id: inProgress[0], outcome: 'failed' } },
      ],
    });
    for (let run = 0; run < 5; run++) {
      const result = await runShadow({ lanes: urls, suite });
      expect(reportedPaths(result), `run ${run}`).toEqual([]);
      expect(result.totals.calls).toBe(suite.calls.length);
      // Every tool answered at least once without an error: the suite reached real behaviour.
      const answered = new Set(result.calls.filter((c) => !c.is_error.baseline).map((c) => c.tool));
      expect([...answered].sort()).toEqual(['autopilot_status', 'dispatch', 'orchestrator_status', 'plan_next', 'report', 'verify']);
    }
  });

  it('reports a candidate whose prompt mode changed, in dispatch and autopilot_status', async () => {
    const result = await runShadow({ lanes: await workerLanes({ flags: { PROMPT_MODE: 'compact' } }, 'compact'), suite: defaultSuite() });
    const reported = reportedPaths(result);
    expect(reported).toContain('dispatch $.prompt.text');
    expect(reported.some((path) => path.startsWith('autopilot_status $.flags.PROMPT_MODE'))).toBe(true);
  });
});
