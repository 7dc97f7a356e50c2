import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readUpgradeShadowSummary, writeShadowJson, writeUpgradeShadowSummary } from '../../controller/src/shadow/index.js';
import { call, connect } from './worker-helpers.js';
import { systemClock } from '../../common/src/clock.js';
import { isWvoError } from '../../common/src/errors.js';
import { DeployOperations } from '../../controller/src/operations/index.js';
import { DeploymentStore } from '../../controller/src/promotion/index.js';
import { requireCleanSoak, type SoakRecord } from '../../controller/src/soak/index.js';
import { faultyTree, liveHead, liveTraffic, replayedUpTo, REPORT_RETRY_FAILED, soakRig, type SoakRig } from '../helpers/soak-rig.js';
import { EMPTY_SHADOW_RESULT } from '../helpers/shadow-sample.js';

const SAMPLE_SHADOW = EMPTY_SHADOW_RESULT;

/**
 * The dual-write soak (issue 11) with real lanes on the local runtime, real SQLite, real HTTP:
 * the live lane journals, the soak forks its state and replays the journal to a baseline replica
 * and the candidate in sandbox.
 */
describe('soak: replay the live journal to a replica and the candidate', () => {
  const rigs: SoakRig[] = [];
  const cleanups: Array<() => void> = [];
  afterEach(async () => {
    for (const rig of rigs.splice(0)) await rig.cleanup();
    cleanups.splice(0).forEach((cleanup) => cleanup());
  });

  async function rig(options: Parameters<typeof soakRig>[0] = {}): Promise<SoakRig> {
    const made = await soakRig(options);
    rigs.push(made);
    return made;
  }

  it('a clean candidate soaks with 0 answer and 0 state differences; every live write is replayed and checkpointed', async () => {
    const r = await rig();
    await liveTraffic(r.liveUrl, 2, 2); // history before the fork
    const ops = r.operations();
    const { record } = await ops.begin({ checkpointCalls: 15, checkpointEvery: '1h' });
    expect(record.fork_seq).toBe(await liveHead(r.liveUrl));
    const driving = ops.drive(record.id);
    const writes = await liveTraffic(r.liveUrl, 3, 5);
    const head = await liveHead(r.liveUrl);
    expect(head - record.fork_seq).toBe(writes);
    await replayedUpTo(r.store, record.id, head);
    await ops.stop(record.id);
    const ended = await driving;
    expect(ended.error).toBeNull();
    expect(ended).toMatchObject({ state: 'stopped', replayed: writes, last_seq: head, answer_diffs: 0, state_diffs: 0, first_diff_at: null });
    const checkpoints = r.store.checkpoints(record.id);
    expect(checkpoints.length).toBeGreaterThanOrEqual(Math.floor(writes / 15) + 1);
    expect(checkpoints.every((checkpoint) => checkpoint.reported === 0)).toBe(true);
    // The lanes are gone and the live journal's floor is cleared.
    expect((await r.runtime.listLanes()).map((lane) => lane.name)).toEqual([expect.stringMatching(/^blue-/)]);
    const headNow = (await (await fetch(`${r.liveUrl}/journal/head`, { headers: { authorization: 'Bearer soak-test-token' } })).json()) as { floor: number | null };
    expect(headNow.floor).toBeNull();
  });

  it('a write-only regression (report stores `failed` for a retry, answers `open`) is reported at the first checkpoint after it', async () => {
    const faulty = faultyTree(REPORT_RETRY_FAILED.file, REPORT_RETRY_FAILED.from, REPORT_RETRY_FAILED.to);
    cleanups.push(faulty.cleanup);
    const r = await rig({ candidateImage: faulty.tree });
    // The upgrade's artifacts as the harness left them: a report and a shadow count of 1.
    const artifacts = join(r.root, 'experiments', 'mcp', 'upgrade', 'up-soak');
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'report.html'), '<!doctype html><html><body><h1>shadow</h1></body></html>');
    const shadowJson = await writeShadowJson(artifacts, { ...SAMPLE_SHADOW, totals: { ...SAMPLE_SHADOW.totals, groups_reported: 1, count: 1 } });
    await writeUpgradeShadowSummary({ stateRoot: r.stateRoot, count: 1, answerGroups: 1, stateDifferences: 0, shadowJsonPath: shadowJson, relativeTo: r.root, recordedAt: new Date() });
    const ops = r.operations();
    const { record } = await ops.begin({ checkpointCalls: 10, checkpointEvery: '1h' });
    const driving = ops.drive(record.id);
    await liveTraffic(r.liveUrl, 2, 4);
    const head = await liveHead(r.liveUrl);
    await replayedUpTo(r.store, record.id, head);
    await ops.stop(record.id);
    const ended = await driving;
    expect(ended.state).toBe('stopped');
    expect(ended.state_diffs).toBeGreaterThan(0);
    // The first retry report in the live journal, and the first checkpoint at or after it.
    const entries = ((await (await fetch(`${r.liveUrl}/journal?after=${record.fork_seq}&limit=500`, { headers: { authorization: 'Bearer soak-test-token' } })).json()) as {
      entries: Array<{ seq: number; tool: string; args: { outcome?: string } }>;
    }).entries;
    const firstRetry = entries.find((entry) => entry.tool === 'report' && entry.args.outcome === 'retry')!;
    expect(firstRetry).toBeDefined();
    const checkpoints = r.store.checkpoints(record.id).filter((checkpoint) => checkpoint.state !== null);
    const firstAfter = checkpoints.find((checkpoint) => checkpoint.seq >= firstRetry.seq)!;
    expect(firstAfter.reported).toBeGreaterThan(0);
    expect(checkpoints.filter((checkpoint) => checkpoint.seq < firstRetry.seq).every((checkpoint) => checkpoint.reported === 0)).toBe(true);
    const groups = (firstAfter.state as { databases: Array<{ groups: Array<{ table: string; column?: string; reported: boolean; examples: Array<{ baseline?: unknown; candidate?: unknown }> }> }> }).databases[0]!.groups;
    const status = groups.find((group) => group.table === 'tasks' && group.column === 'status' && group.reported)!;
    expect(status).toBeDefined();
    // The retried task is `failed` on the candidate; on the baseline it went back to `open`, and
    // by the checkpoint (up to 9 calls later) the agents may have claimed or finished it again.
    expect(status.examples.some((example) => example.candidate === 'failed' && ['open', 'in_progress', 'done'].includes(example.baseline as string))).toBe(true);
    // The status view groups it; the report section names it.
    const view = ops.status(record.id);
    expect(view.clean_ms).toBe(0);
    expect(() => requireCleanSoak(r.store, 'up-soak', 1)).toThrow(expect.objectContaining({ code: 'WVO_SOAK_REQUIRED' }));
    // The report gained a soak section naming the table; the shadow count adds the soak's differences.
    const html = readFileSync(join(artifacts, 'report.html'), 'utf8');
    expect(html).toContain('<h1>shadow</h1>');
    expect(html).toMatch(/<section id="soak">[\s\S]*tasks\.status[\s\S]*<\/section>/);
    const summary = (await readUpgradeShadowSummary(r.stateRoot))!;
    const soakDiffs = view.answer_groups.filter((g) => g.reported).length + ended.state_diffs;
    expect(summary).toMatchObject({ count: 1 + soakDiffs, soak_differences: soakDiffs, path: 'experiments/mcp/upgrade/up-soak/shadow.json' });
    // The live worker's orchestrator_status shows the same count.
    const client = await connect(r.liveUrl, 'status-reader');
    try {
      expect((await call(client, 'orchestrator_status')).body.queue.shadow_diffs.count).toBe(1 + soakDiffs);
    } finally {
      await client.close();
    }
  });

  it('a restarted controller resumes from the last replayed seq (lanes kept), and a crashed lane restarts from the last checkpoint', async () => {
    const r = await rig();
    const first = r.operations();
    const { record } = await first.begin({ checkpointCalls: 8, checkpointEvery: '1h' });
    // Controller 1 replays, then "dies": its loop is aborted and its heartbeat goes stale.
    const abort = new AbortController();
    const driving = first.drive(record.id, abort.signal);
    await liveTraffic(r.liveUrl, 2, 3);
    const head1 = await liveHead(r.liveUrl);
    await replayedUpTo(r.store, record.id, head1);
    abort.abort();
    const left = await driving;
    expect(left.state).toBe('running');
    r.store.save({ ...r.store.find(record.id)!, owner: { pid: 999_999_999, host: 'gone', heartbeat_at: 0 } });

    // Controller 2: begin() finds the orphaned soak and resumes it; the lanes are still up at head1.
    await liveTraffic(r.liveUrl, 2, 2);
    const second = r.operations();
    const resumed = await second.begin({});
    expect(resumed).toMatchObject({ resumed: true, record: { id: record.id, last_seq: head1 } });
    const driving2 = second.drive(record.id);
    const head2 = await liveHead(r.liveUrl);
    await replayedUpTo(r.store, record.id, head2);
    expect(r.store.find(record.id)!.lane_restarts).toBe(0);

    // The candidate lane crashes (killed); the next entries restart both lanes from the last checkpoint.
    const candidate = await r.runtime.getLane(record.lanes.candidate);
    process.kill(Number(candidate!.id), 'SIGKILL');
    await liveTraffic(r.liveUrl, 2, 2);
    const head3 = await liveHead(r.liveUrl);
    await replayedUpTo(r.store, record.id, head3);
    await second.stop(record.id);
    const ended: SoakRecord = await driving2;
    expect(ended.error).toBeNull();
    expect(ended).toMatchObject({ state: 'stopped', last_seq: head3, replayed: head3 - record.fork_seq, answer_diffs: 0, state_diffs: 0 });
    expect(ended.lane_restarts).toBeGreaterThanOrEqual(1);
  });

  it('--require-soak: a clean soak long enough passes, a shorter one is WVO_SOAK_REQUIRED', async () => {
    const r = await rig();
    const ops = r.operations();
    const { record } = await ops.begin({ checkpointCalls: 5, checkpointEvery: '200ms' });
    const driving = ops.drive(record.id);
    await liveTraffic(r.liveUrl, 1, 3);
    await replayedUpTo(r.store, record.id, await liveHead(r.liveUrl));
    await new Promise((resolve) => setTimeout(resolve, 700)); // time-based checkpoints keep the clean span growing
    await ops.stop(record.id);
    const ended = await driving;
    const clean = ended.checkpoint_at - ended.started_at;
    expect(clean).toBeGreaterThanOrEqual(600);
    expect(requireCleanSoak(r.store, 'up-soak', 500).id).toBe(record.id);
    let refused: unknown;
    try {
      requireCleanSoak(r.store, 'up-soak', 3_600_000);
    } catch (error) {
      refused = error;
    }
    expect(isWvoError(refused) && refused.code).toBe('WVO_SOAK_REQUIRED');
    expect(() => requireCleanSoak(r.store, 'another-upgrade', 1)).toThrow(/never soaked/);

    // `wvo promote --require-soak` (and POST /deployments/:id/promote {requireSoak}) goes through DeployOperations.
    const deployments = DeploymentStore.open(r.stateRoot);
    try {
      const promote = new DeployOperations({
        store: deployments,
        runner: {} as never, // refused before any effect
        proxy: { lanes: async () => ({ active: 'not-the-baseline' }) as never },
        runtime: { ensureImage: async () => ({}) as never },
        clock: systemClock,
        soaks: () => r.store,
      });
      await expect(promote.promote({ requireSoak: '1h', observeMs: '1m' })).rejects.toMatchObject({ code: 'WVO_SOAK_REQUIRED', subject: '--require-soak' });
      await expect(promote.promote({ requireSoak: 'soon', observeMs: '1m' })).rejects.toMatchObject({ code: 'WVO_INVALID_DURATION' });
      // Clean for long enough: the check passes and the promotion's own precheck answers next.
      await expect(promote.promote({ requireSoak: '500ms', observeMs: '1m' })).rejects.toMatchObject({ code: 'WVO_DEPLOY_BASELINE_NOT_ACTIVE' });
      expect(deployments.list()).toEqual([]);
    } finally {
      deployments.close();
    }
  });
  it('the fork waits for a quiet moment: a dispatch between its transactions (running `sleep`) delays it, one open past --fork-timeout is WVO_SOAK_FORK_OPEN and starts nothing', async () => {
    const r = await rig();
    const agent = await connect(r.liveUrl, 'slow-agent');
    cleanups.push(() => void agent.close());
    const openCalls = async () =>
      ((await (await fetch(`${r.liveUrl}/journal/head`, { headers: { authorization: 'Bearer soak-test-token' } })).json()) as { open: unknown[] }).open.length;
    const dispatchSlow = async (seconds: string) => {
      const pending = call(agent, 'dispatch', { agent: 'slow', command: { kind: 'exec', program: 'sleep', args: [seconds] } });
      for (let i = 0; i < 1_000 && (await openCalls()) === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await openCalls()).toBe(1);
      return pending;
    };
    const ops = r.operations();

    // Open longer than the fork may wait: refused, no record, no fork left on disk.
    const long = dispatchSlow('3');
    const refused = await ops.begin({ forkTimeout: '500ms' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isWvoError(refused) && refused.code).toBe('WVO_SOAK_FORK_OPEN');
    expect(r.store.list()).toEqual([]);
    const head = (await (await fetch(`${r.liveUrl}/journal/head`, { headers: { authorization: 'Bearer soak-test-token' } })).json()) as { floor: number | null };
    expect(head.floor).toBeNull();
    expect((await long).isError).toBe(false);

    // Open for 1.5 s, well inside the default wait: the fork holds the dispatch, closed.
    const slow = dispatchSlow('1.5');
    const { record } = await ops.begin({ checkpointEvery: '1h' });
    expect((await slow).isError).toBe(false);
    expect(record.fork_seq).toBe(await liveHead(r.liveUrl));
  });
});
