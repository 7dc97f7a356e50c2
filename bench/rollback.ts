/**
 * Rollback-after-promotion benchmark: `npx tsx bench/rollback.ts [--rounds 3] [--runtimes local,docker]`.
 * For each runtime, a real proxy in front of blue (this repo's built worker; Docker: its image),
 * steady load from 10 MCP SDK sessions, then per round: promote blue → green (observe 1 s), roll
 * back after promotion, and time it, once with the old lane stopped at promotion (the default:
 * rollback restarts it) and once with `keepWarmMs` (the old lane still runs: rollback is a switch).
 * Figures, side by side in one run: the rollback call → the proxy routing to blue again ("traffic
 * back"), and the whole command (which then also drains and stops green). Failed requests must
 * stay 0. Everything it creates (lanes, images, temp dirs) is removed at the end.
 */
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { DockerRuntime } from '../controller/src/runtime/docker/docker-runtime.js';
import { buildRepoWorkerImage, chownTree, startDeployRig, timedRollback, type DeployRig } from '../test/helpers/deploy-rig.js';
import { startTraffic, type Traffic } from '../test/helpers/mcp-traffic.js';
import { cleanupProject, removeImageTag } from '../test/helpers/runtime-fixtures.js';
import { usageOnHelp } from './usage.js';

usageOnHelp(import.meta.url);

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, runtimes: { type: 'string', default: 'local,docker' } } });
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
const runtimes = values.runtimes.split(',').filter(Boolean);
const project = `bench-rollback-${process.pid}`;
const tag = `wvo-worker:${project}`;
const docker = new Docker();

interface Sample {
  trafficBackMs: number;
  wholeMs: number;
}
const rows: Array<{ runtime: string; mode: string; samples: Sample[]; sent: number; failed: number }> = [];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => `${Math.round(median(xs))} ms (${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))})`;

/** One rig per runtime and mode; each round promotes then rolls back after promotion. */
async function measure(runtime: string, keepWarmMs: number): Promise<void> {
  let rig: DeployRig | undefined;
  let traffic: Traffic | undefined;
  const samples: Sample[] = [];
  try {
    rig =
      runtime === 'docker'
        ? await startDeployRig({ image: tag, runtime: () => new DockerRuntime({ project, readyTimeoutMs: 60_000, stopTimeoutMs: 5_000 }), afterSeed: chownTree })
        : await startDeployRig();
    traffic = await startTraffic(rig.proxy.url, { sessions: 10, writers: 1, intervalMs: 20, maxMs: 15 * 60_000 });
    for (let round = 0; round < rounds; round++) {
      const upgrade = rig.stage();
      const options = { upgradeId: upgrade.id, observeMs: '1s', intervalMs: '500ms', maxFailedChecks: 50, retentionMs: '1h' };
      const { deployment, done } = await rig.deploy.operations.begin(keepWarmMs > 0 ? { ...options, keepWarmMs } : options);
      await rig.waitForState(deployment.id, ['promoted', 'rolled_back'], 120_000);
      if (rig.store.get(deployment.id).state !== 'promoted') throw new Error(`round ${round}: not promoted (${JSON.stringify(rig.store.get(deployment.id).rollback)})`);
      const { record: rolled, wholeMs, trafficBackMs } = await timedRollback(rig, { reason: `bench round ${round}` });
      await done;
      if (rolled.state !== 'rolled_back') throw new Error(`round ${round}: rollback ended ${rolled.state}`);
      if (trafficBackMs === undefined) throw new Error(`round ${round}: no switch back recorded`);
      samples.push({ trafficBackMs, wholeMs });
      process.stderr.write(`[bench] ${runtime} keepWarm=${keepWarmMs} round ${round + 1}/${rounds}: traffic back ${trafficBackMs} ms, whole ${wholeMs} ms\n`);
    }
    await traffic.stop();
    rows.push({ runtime, mode: keepWarmMs > 0 ? 'keep-warm (old lane running)' : 'default (old lane stopped)', samples, sent: traffic.sent, failed: traffic.failed });
  } finally {
    await traffic?.close();
    await rig?.close();
    if (runtime === 'docker') await cleanupProject(docker, project);
  }
}

try {
  if (runtimes.includes('docker')) {
    process.stderr.write('[bench] building the worker image from this tree\n');
    await buildRepoWorkerImage(docker, project);
  }
  for (const runtime of runtimes) {
    await measure(runtime, 0);
    await measure(runtime, 60_000);
  }
  const table = [
    ['runtime', 'rollback after promotion', 'call → traffic on blue, median (min–max)', 'whole command', 'requests sent', 'failed'],
    ...rows.map((r) => [r.runtime, r.mode, fmt(r.samples.map((s) => s.trafficBackMs)), fmt(r.samples.map((s) => s.wholeMs)), String(r.sent), String(r.failed)]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  console.log(table.map((row) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`).join('\n'));
  if (rows.some((r) => r.failed > 0)) process.exitCode = 1;
} finally {
  if (runtimes.includes('docker')) {
    await cleanupProject(docker, project);
    await removeImageTag(docker, tag).catch(() => undefined);
  }
}
