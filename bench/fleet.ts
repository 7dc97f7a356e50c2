/**
 * Fleet promotion benchmark: `npx tsx bench/fleet.ts [--deployments 4] [--wave-size 2 | --waves 1,50%,rest] [--wave-observe 4s,2s] [--pause 1s] [--observe 2s] [--keep-warm 0]`
 * (root: it starts a namespace engine, test/helpers/runtime-engine-b.ts). Deployments alternate
 * between the host engine and the second engine, each a real orchestrator (seeded live state,
 * `blue` lane, its own proxy and controller.db), under MCP SDK load on every proxy while the
 * fleet rolls a candidate across them in waves. It prints the candidate image's size and its
 * transfer time to the second engine, each wave's time, each deployment's promotion time, and
 * last `fleet: D deployments in W waves, F failed requests`. Everything it starts is removed.
 */
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { DeploymentStore, type DeploymentState } from '../controller/src/promotion/index.js';
import { DockerRuntime } from '../controller/src/runtime/index.js';
import { buildRepoWorkerImage } from '../test/helpers/deploy-rig.js';
import { startFleetRig, type FleetRig } from '../test/helpers/fleet-rig.js';
import { startTraffic, type Traffic } from '../test/helpers/mcp-traffic.js';
import { startEngineB, type EngineB } from '../test/helpers/runtime-engine-b.js';
import { removeImageTag, testId } from '../test/helpers/runtime-fixtures.js';
import { usageOnHelp } from './usage.js';

usageOnHelp(import.meta.url);

const { values } = parseArgs({
  options: {
    deployments: { type: 'string', default: '4' },
    'wave-size': { type: 'string' },
    /** Progressive sizes instead of --wave-size (`1,50%,rest`), and an observe window per wave. */
    waves: { type: 'string' },
    'wave-observe': { type: 'string' },
    /** The old lane's keep-warm after each promotion (default: the promotion's, 30 s); 0 isolates the observe windows. */
    'keep-warm': { type: 'string' },
    pause: { type: 'string', default: '1s' },
    observe: { type: 'string', default: '2s' },
  },
});
const deployments = Number(values.deployments);
const docker = new Docker();
const project = testId('bench-fleet');
const image = `wvo-worker:${project}`;
const candidate = `wvo-worker:${project}-v2`;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

let engine: EngineB | undefined;
let fleet: FleetRig | undefined;
const traffic: Traffic[] = [];
try {
  const setup = Date.now();
  [engine] = await Promise.all([startEngineB({ net: '10.217' }), buildRepoWorkerImage(docker, project)]);
  await docker.getImage(image).tag({ repo: 'wvo-worker', tag: `${project}-v2` });
  fleet = await startFleetRig({ id: project, docker, engine, image, deployments, tasks: 200 });
  console.log(`setup: ${deployments} deployments (blue lanes, proxies) on 2 engines in ${s(Date.now() - setup)}`);

  // The image transfer a remote host pays once per candidate (save → load over the Docker API).
  const size = (await docker.getImage(candidate).inspect()).Size;
  const engines = new DockerRuntime({ project, hosts: fleet.config.hosts });
  const transfer = await engines.transferImage(candidate, 'hostb');
  await engines.close();
  console.log(`image: ${candidate} ${(size / 1e6).toFixed(0)} MB, transfer to the second engine ${s(transfer.durationMs)} (${transfer.transferred ? 'sent' : 'already there'})`);

  const upgradeId = fleet.stage(candidate);
  for (const m of fleet.members) traffic.push(await startTraffic(m.proxy.url, { sessions: 8, writers: 1, intervalMs: 25, maxMs: 600_000 }));
  const started = Date.now();
  const record = await fleet.control().runner.promote({
    upgradeId,
    ...(values.waves ? { waves: values.waves } : { waveSize: Number(values['wave-size'] ?? '2') }),
    ...(values['wave-observe'] ? { waveObserve: values['wave-observe'] } : {}),
    pause: values.pause,
    promotion: { observeMs: values.observe, intervalMs: '500ms', maxFailedChecks: 20, ...(values['keep-warm'] ? { keepWarmMs: values['keep-warm'] } : {}) },
  });
  const whole = Date.now() - started;
  await new Promise((r) => setTimeout(r, 500));
  for (const t of traffic) await t.stop();
  const failed = traffic.reduce((n, t) => n + t.failed, 0);
  const sent = traffic.reduce((n, t) => n + t.sent, 0);
  console.log(`fleet ${record.id}: ${record.state}; waves ${record.waveSpec ?? record.waveSize}, boot limit ${record.bootLimit}, pause ${s(record.pauseMs)}, observe window ${values['wave-observe'] ?? values.observe}`);
  for (const wave of record.waves) {
    const members = record.members.filter((m) => m.wave === wave.index);
    const window = wave.observeMs ? `, observe ${s(wave.observeMs)}` : '';
    console.log(`  wave ${wave.index + 1} (${members.length}${window}): ${s(wave.finishedAt! - wave.startedAt!)} (${members.map((m) => `${m.name} ${s(m.finishedAt! - m.startedAt!)}`).join(', ')})`);
  }
  // Where one deployment's promotion spends its time (write-ahead transitions in its own controller.db).
  for (const m of record.members) {
    const store = DeploymentStore.open(fleet.members.find((f) => f.name === m.name)!.state);
    const at = new Map(store.transitions(m.deploymentId!).map((t) => [t.to, t.at]));
    store.close();
    const span = (a: DeploymentState, b: DeploymentState) => (at.has(a) && at.has(b) ? s(at.get(b)! - at.get(a)!) : '-');
    console.log(`  ${m.name}: canary started and healthy ${span('canary_live', 'switched')}, switch ${span('switched', 'observing')}, observe ${span('observing', 'promoted')}, old lane stopped ${at.has('promoted') ? s(m.finishedAt! - at.get('promoted')!) : '-'}`);
  }
  console.log(`whole fleet ${s(whole)}; ${sent} MCP calls through ${traffic.length} proxies, ${failed} failed${failed ? `: ${traffic.flatMap((t) => t.failures).slice(0, 3).join(' | ')}` : ''}`);
  if (record.state !== 'promoted') console.log(`not promoted: ${record.reason}`);
  console.log(`fleet: ${record.members.length} deployments in ${record.waves.length} waves, ${failed} failed requests`);
} finally {
  for (const t of traffic) await t.close().catch(() => undefined);
  await fleet?.close();
  await engine?.destroy();
  await removeImageTag(docker, candidate);
  await removeImageTag(docker, image);
}
