/**
 * `npx tsx bench/soak.ts [--seconds 20] [--writers 4] [--readers 40] [--journal-calls 1500]`
 *
 * The dual-write soak (issue 11) under the demo's mixed load: a live lane (local runtime) takes
 * the demo's readers (40 MCP sessions, a call every 150 ms: orchestrator_status, plan_next,
 * autopilot_status) plus writer agents (plan_next → dispatch → verify → report, retries
 * included) while a soak replays its journal to a baseline replica and a candidate. Two runs:
 * a clean candidate (the same build) and a faulty one (report stores `failed` for a retry while
 * answering `open`: a write-only change). Prints live write throughput vs replay throughput, lag
 * p50/p99 (the live call's last clock reading, just before it commits → replayed on both lanes), the diffs each run found, and the journal
 * append's cost on the live lane (bench/worker.ts --journal-only, run here, same run).
 * Last line, for the clean run: `soak: replayed N calls, lag p99 X ms, answer diffs A, state diffs S`.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLoad } from '../common/src/mcp-load.js';
import { connect } from '../test/integration/worker-helpers.js';
import { usageOnHelp } from './usage.js';
import { agentLoop, faultyTree, liveHead, REPORT_RETRY_FAILED, SOAK_TOKEN, soakRig } from '../test/helpers/soak-rig.js';

usageOnHelp(import.meta.url);

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    writers: { type: 'string', default: '4' },
    readers: { type: 'string', default: '40' },
    'journal-calls': { type: 'string', default: '1500' },
  },
});
const SECONDS = Number(values.seconds);
const WRITERS = Number(values.writers);
const READERS = Number(values.readers);
const say = (line: string) => process.stderr.write(`[soak-bench] ${line}\n`);

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : 0);

interface RunResult {
  label: string;
  liveWrites: number;
  liveReads: number;
  seconds: number;
  replayed: number;
  replayBusyMs: number;
  lags: number[];
  /** Per entry: lag, its lag when its page arrived, its replay time. */
  parts: Array<{ lag: number; seen: number; replay: number }>;
  answerDiffs: number;
  stateDiffs: number;
  checkpoints: number;
  groups: string[];
  /** The first live `report retry` (what the faulty candidate stores wrongly) and the first checkpoint that reported anything. */
  firstFault: number | null;
  firstReported: number | null;
}

async function run(label: string, candidateImage?: string): Promise<RunResult> {
  const rig = await soakRig({ tasks: 500, ...(candidateImage ? { candidateImage } : {}) });
  const lags: number[] = [];
  const parts: RunResult['parts'] = [];
  let replayBusyMs = 0;
  try {
    let lanesUp: () => void = () => undefined;
    const up = new Promise<void>((resolve) => (lanesUp = resolve));
    const ops = rig.operations({
      onReplayed: (_seq, lag, replayMs, seen) => {
        lags.push(lag);
        parts.push({ lag, seen, replay: replayMs });
        replayBusyMs += replayMs;
      },
      onProgress: (_record, what) => {
        if (what === 'progress') lanesUp();
      },
    });
    const { record } = await ops.begin({ checkpointCalls: 200, checkpointEvery: '5s' });
    const driving = ops.drive(record.id);
    // Steady state is measured: the load starts once both lanes are up (their start is a one-off).
    await up;
    say(`${label}: soak ${record.id} forked at seq ${record.fork_seq}; ${READERS} readers + ${WRITERS} writers for ${SECONDS} s`);
    const started = Date.now();
    const readers = await startLoad({ url: rig.liveUrl, sessions: READERS, intervalMs: 150, maxDurationMs: SECONDS * 1000 + 30_000 });
    const clients = await Promise.all(Array.from({ length: WRITERS }, (_, i) => connect(rig.liveUrl, `writer-${i}`)));
    let writing = true;
    // Two rounds at a time: the second reports `retry` (what the faulty candidate stores wrongly).
    const writers = clients.map(async (client, i) => {
      while (writing) await agentLoop(client, `writer-${i}`, 2);
    });
    await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
    writing = false;
    await Promise.all(writers);
    const seconds = (Date.now() - started) / 1000;
    const reads = await readers.stop();
    await Promise.all(clients.map((client) => client.close()));
    const head = await liveHead(rig.liveUrl);
    // Let it catch up, then stop (a last checkpoint).
    const deadline = Date.now() + 120_000;
    while (rig.store.find(record.id)!.last_seq < head && rig.store.find(record.id)!.state === 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await ops.stop(record.id);
    const ended = await driving;
    if (ended.error) throw new Error(`${label}: the soak failed: ${ended.error.code} ${ended.error.message}`);
    const status = ops.status(record.id);
    const stateGroups = (status.checkpoints.at(-1)?.state as { databases?: Array<{ groups: Array<{ table: string; column?: string; reported: boolean; rows: number }> }> } | null)?.databases?.flatMap((db) => db.groups.filter((g) => g.reported).map((g) => `${g.table}${g.column ? `.${g.column}` : ''} (${g.rows} rows)`)) ?? [];
    const journal = (await (await fetch(`${rig.liveUrl}/journal?after=${record.fork_seq}&limit=1000`, { headers: { authorization: `Bearer ${SOAK_TOKEN}` } })).json()) as {
      entries: Array<{ seq: number; tool: string; args: { outcome?: string } }>;
    };
    const firstFault = journal.entries.find((entry) => entry.tool === 'report' && entry.args.outcome === 'retry')?.seq ?? null;
    const firstReported = status.checkpoints.find((checkpoint) => checkpoint.reported > 0)?.seq ?? null;
    const answerGroups = status.answer_groups.filter((g) => g.reported).map((g) => `${g.tool} ${g.path} (${g.calls.length} calls)`);
    return {
      label,
      liveWrites: head - record.fork_seq,
      liveReads: reads.sent,
      seconds,
      replayed: ended.replayed,
      replayBusyMs,
      lags: lags.sort((a, b) => a - b),
      parts,
      answerDiffs: ended.answer_diffs,
      stateDiffs: ended.state_diffs,
      checkpoints: ended.checkpoints,
      groups: [...stateGroups.map((g) => `state ${g}`), ...answerGroups.map((g) => `answer ${g}`)],
      firstFault,
      firstReported,
    };
  } finally {
    await rig.cleanup();
  }
}

const clean = await run('clean');
const faulty = faultyTree(REPORT_RETRY_FAILED.file, REPORT_RETRY_FAILED.from, REPORT_RETRY_FAILED.to);
let bad: RunResult;
try {
  bad = await run('faulty', faulty.tree);
} finally {
  faulty.cleanup();
}

say(`journal append cost: bench/worker.ts --journal-only --journal-calls ${values['journal-calls']}`);
const workerBench = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'worker.ts'), '--journal-only', '--journal-calls', String(values['journal-calls'])], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
const appendLines = workerBench.split('\n').filter((line) => line.startsWith('journal append on'));

console.log(`\nsoak under the demo's mixed load (${READERS} readers every 150 ms + ${WRITERS} writer agents, ${SECONDS} s, local runtime)`);
console.log('| run    | live writes | live reads | live writes/s | replayed | replay calls/s (busy) | lag p50 ms | lag p99 ms | checkpoints | answer diffs | state diffs |');
console.log('| ------ | ----------- | ---------- | ------------- | -------- | --------------------- | ---------- | ---------- | ----------- | ------------ | ----------- |');
for (const r of [clean, bad]) {
  const replayRate = r.replayBusyMs > 0 ? (r.replayed / (r.replayBusyMs / 1000)).toFixed(0) : '-';
  console.log(
    `| ${r.label.padEnd(6)} | ${String(r.liveWrites).padStart(11)} | ${String(r.liveReads).padStart(10)} | ${(r.liveWrites / r.seconds).toFixed(1).padStart(13)} | ${String(r.replayed).padStart(8)} | ${replayRate.padStart(21)} | ${percentile(r.lags, 50).toFixed(0).padStart(10)} | ${percentile(r.lags, 99).toFixed(0).padStart(10)} | ${String(r.checkpoints).padStart(11)} | ${String(r.answerDiffs).padStart(12)} | ${String(r.stateDiffs).padStart(11)} |`,
  );
}
console.log(
  `faulty candidate: first live retry report at seq ${bad.firstFault ?? '-'}, first checkpoint reporting a difference at seq ${bad.firstReported ?? '- (MISSED)'}; ` +
    `${bad.groups.length} groups, first: ${bad.groups.slice(0, 4).join('; ') || 'none'}`,
);
// Where the tail comes from: for the entries at or above the run's p90 lag, the share until their
// page arrived (commit → pulled), the wait in the loop before their replay (earlier entries of the
// page, a checkpoint's copy), and the replay on both lanes.
for (const r of [clean, bad]) {
  const p90 = percentile(r.lags, 90);
  const tail = r.parts.filter((part) => part.lag >= p90);
  const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50).toFixed(0);
  const worst = tail.reduce((a, b) => (b.lag > a.lag ? b : a), tail[0] ?? { lag: 0, seen: 0, replay: 0 });
  const queued = (part: { lag: number; seen: number; replay: number }) => Math.max(0, part.lag - part.seen - part.replay);
  console.log(
    `${r.label} lag tail (${tail.length} entries ≥ p90 ${p90} ms), medians: until pulled ${median(tail.map((t) => t.seen))} ms, queued in the loop ${median(tail.map(queued))} ms, replay ${median(tail.map((t) => t.replay))} ms; ` +
      `worst ${worst.lag} ms = pulled ${worst.seen} + queued ${queued(worst)} + replay ${worst.replay}`,
  );
}
for (const line of appendLines) console.log(line);
console.log(`soak: replayed ${clean.replayed} calls, lag p99 ${percentile(clean.lags, 99).toFixed(0)} ms, answer diffs ${clean.answerDiffs}, state diffs ${clean.stateDiffs}`);
