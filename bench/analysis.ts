/**
 * `npx tsx bench/analysis.ts [--help] [--healthy 5] [--steps 50] [--observe 36s] [--interval 6s] [--sessions 24] [--writers 6] [--renew 10] [--only healthy|bad] [--verbose]`: the
 * promotion analysis under realistic load (readers and writer agents: dispatch → verify → report)
 * on real lanes (local runtime), a real proxy and the real executor, with the DEFAULT analysis
 * config and gate thresholds (only the windows are shortened):
 *   - N promotions of a healthy candidate (this repo's worker, behind the same pass-through front as the baseline):
 *     how many are promoted (false-rollback rate);
 *   - three bad candidates, each this worker behind a fault front: 20 % tool errors, `plan_next` 2× slower,
 *     `orchestrator_status` without `queue.total` (fails the semantic probe): each must be rolled back;
 *     time to detect = candidate first takes traffic → rollback decided.
 * Needs `npm run build` (lanes run dist/). Last line: `analysis: healthy promoted H/N, bad rolled back B/3`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFaultTree, type Fault } from '../test/helpers/fault-tree.js';
import { startDeployRig, type DeployRig } from '../test/helpers/deploy-rig.js';
import { startTraffic, type Traffic } from '../test/helpers/mcp-traffic.js';
import { sleep } from '../test/helpers/sleep.js';
import { usageOnHelp } from './usage.js';

usageOnHelp(import.meta.url);

function flag(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

const HEALTHY = Number(flag('healthy', '5'));
const SESSIONS = Number(flag('sessions', '24'));
const WRITERS = Number(flag('writers', '6'));
const ONLY = flag('only', 'all');
/** Turns before a session is closed and opened again: new sessions are what a weighted step splits. */
const RENEW = Number(flag('renew', '10'));
const STEPS = flag('steps', '50');
const OBSERVE = flag('observe', '36s');
const INTERVAL = flag('interval', '6s');
/** The probe every run carries: the candidate must report its queue with a total. */
const PROBES = [{ name: 'queue-total', tool: 'orchestrator_status', expect: [{ path: '$.queue.total', type: 'integer' }] }];

interface Outcome {
  label: string;
  state: string;
  detectMs?: number;
  reason?: string;
  failedCalls: number;
  sentCalls: number;
  verdicts: string;
  /** Why intervals failed (first reason of each failed interval). */
  failures: string[];
}

/**
 * Baseline and candidate run the same front (a second HTTP hop in the worker's process, which on
 * busy cores costs as much as the tools themselves): only the fault differs, so a healthy
 * candidate is the same code as the baseline and a bad one differs by its defect alone.
 */
const trees = mkdtempSync(join(tmpdir(), 'wvo-bench-analysis-'));
const BASELINE = makeFaultTree(join(trees, 'baseline'), { kind: 'none' });

async function once(label: string, fault: Fault): Promise<Outcome> {
  let rig: DeployRig | undefined;
  let traffic: Traffic | undefined;
  try {
    rig = await startDeployRig({ drainTimeoutMs: 500, tasks: 300, image: BASELINE });
    const image = makeFaultTree(join(rig.root, 'candidate'), fault);
    const upgrade = rig.stage({ baseline: { lane: 'blue', image: BASELINE }, candidate: { lane: 'green', image } });
    traffic = await startTraffic(rig.proxy.url, { sessions: SESSIONS, writers: WRITERS, intervalMs: 20, maxMs: 300_000, renewEvery: RENEW });
    await sleep(1_000);
    const record = await rig.deploy.operations.promote({
      upgradeId: upgrade.id,
      steps: STEPS,
      observeMs: OBSERVE,
      intervalMs: INTERVAL,
      probes: PROBES,
      keepWarmMs: 0, // nothing to wait for here: the rollback-after-promotion time is bench/rollback.ts
    });
    await traffic.stop();
    const transitions = rig.store.transitions(record.id);
    const firstTraffic = transitions.find((t) => t.to === 'weighted' || t.to === 'switched')?.at;
    const decided = transitions.find((t) => t.to === 'rolling_back')?.at;
    const verdicts = record.analyses.map((a) => `${a.weight}%:${a.verdict}${a.score === null ? '' : `(${a.score})`}`).join(' ');
    return {
      label,
      state: record.state,
      ...(firstTraffic !== undefined && decided !== undefined ? { detectMs: decided - firstTraffic } : {}),
      ...(record.rollback ? { reason: record.rollback.reason } : {}),
      failedCalls: traffic.failed,
      sentCalls: traffic.sent,
      verdicts,
      failures: [
        ...record.analyses.filter((a) => a.verdict === 'fail' || a.gates === 'fail').map((a) => `${a.weight}%: ${a.reasons[0] ?? 'gates'}`),
        // The slowest tool of each interval (median ratio, candidate vs baseline), for reading the latency checks.
        ...record.analyses.map((a) => {
          const slowest = a.checks.filter((c) => c.metric === 'tool_latency' && c.effect !== undefined).sort((x, y) => y.effect! - x.effect!)[0];
          return slowest ? `${a.weight}% slowest: ${slowest.subject} ×${slowest.effect!.toFixed(2)} (${((slowest.candidate ?? 0) * 1000).toFixed(1)} vs ${((slowest.baseline ?? 0) * 1000).toFixed(1)} ms, p=${slowest.pValue?.toExponential(1)}, ${slowest.verdict})` : `${a.weight}%: no latency judged`;
        }),
      ],
    };
  } finally {
    await traffic?.close();
    await rig?.close();
  }
}

const VERBOSE = process.argv.includes('--verbose');
const line = (o: Outcome) =>
  (VERBOSE && o.failures.length ? o.failures.map((f) => `  failed interval ${f.slice(0, 240)}\n`).join('') : '') +
  `${o.label.padEnd(22)} ${o.state.padEnd(12)} ${o.detectMs === undefined ? '-'.padStart(8) : `${(o.detectMs / 1000).toFixed(1)} s`.padStart(8)}  calls ${o.sentCalls} (failed ${o.failedCalls})  ${o.verdicts}${o.reason ? `\n${''.padEnd(23)}why: ${o.reason.slice(0, 300)}` : ''}`;

process.stderr.write(`[bench] steps ${STEPS}, observe ${OBSERVE}, interval ${INTERVAL}; default analysis and gates; ${SESSIONS} sessions (${WRITERS} writers)\n`);
const healthy: Outcome[] = [];
for (let i = 1; i <= (ONLY === 'bad' ? 0 : HEALTHY); i++) {
  const o = await once(`healthy ${i}/${HEALTHY}`, { kind: 'none' });
  healthy.push(o);
  console.log(line(o));
}
const BAD: Array<[string, Fault]> = [
  ['20% tool errors', { kind: 'tool_errors', every: 5 }],
  ['plan_next 2x slower', { kind: 'slow_tool', tool: 'plan_next' }],
  ['probe fails', { kind: 'drop_field', tool: 'orchestrator_status', section: 'queue', field: 'total' }],
];
const bad: Outcome[] = [];
for (const [label, fault] of ONLY === 'healthy' ? [] : BAD) {
  const o = await once(label, fault);
  bad.push(o);
  console.log(line(o));
}
rmSync(trees, { recursive: true, force: true });
const promoted = healthy.filter((o) => o.state === 'promoted').length;
const rolledBack = bad.filter((o) => o.state === 'rolled_back').length;
console.log(`analysis: healthy promoted ${promoted}/${HEALTHY}, bad rolled back ${rolledBack}/${BAD.length}`);
