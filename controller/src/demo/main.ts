#!/usr/bin/env node
/**
 * `npm run demo`: the whole job on an embedded default. A blue worker serves seeded state through
 * the session-aware proxy under steady load from many MCP sessions; `wvo upgrade` shadows a green
 * change against it and reports the diff; then the closing table says what the agents saw.
 * Docker lanes when an engine answers, local processes otherwise (WVO_DEMO_RUNTIME forces one).
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { formatError } from '../../../common/src/errors.js';
import { silentLogger } from '../../../common/src/logger.js';
import { startLoad, type LoadReport } from '../../../common/src/mcp-load.js';
import { openCliContext } from '../cli/index.js';
import { DockerRuntime } from '../runtime/index.js';
import { removeDemoDocker } from './docker-cleanup.js';
import { WORKER_APP_CONFIG } from '../config/index.js';
import { buildStagedTree, copyWorkspaceToGitRepo, parseUpgradeOptions, plainReporter, stageGitRef } from '../harness/index.js';
import { ControlPlane, upgrade as upgradeAndRecord, WORKER_TOKEN_ENV } from '../operations/index.js';
import type { DeploymentRecord } from '../promotion/index.js';
import { ProxyAdminClient, startProxy, type RunningProxy } from '../proxy/index.js';
import { seedState } from '../../../worker/src/index.js';
import { demoSoak } from './demo-soak.js';

const PROJECT_ROOT = join(import.meta.dirname, '..', '..', '..', '..');
const BLUE = 'demo-blue';

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

function heading(text: string): void {
  say(process.stdout.isTTY ? `\n\x1b[1m== ${text}\x1b[0m` : `\n== ${text}`);
}

/** The green change: plan_next reports each task's rank. Small, real, and visible in the diff. */
function makeGreenChange(dir: string): void {
  const file = join(dir, 'worker/src/tools/plan-next.ts');
  const source = readFileSync(file, 'utf8');
  const changed = source.replace(
    'readyTasks(context.db, input.limit).map((task) => ({\n      id: task.id,',
    'readyTasks(context.db, input.limit).map((task, index) => ({\n      rank: index + 1,\n      id: task.id,',
  );
  if (changed === source) throw new Error('demo: the green change no longer applies to plan-next.ts');
  writeFileSync(file, changed);
}

function table(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join('\n');
}

async function main(): Promise<void> {
  // The demo prints its own story; lanes and runtimes log only what goes wrong.
  process.env.WVO_LOG_LEVEL ??= 'warn';
  // Build on the offline base unless told to pull (no registry needs to be reachable).
  process.env.WVO_IMAGE_PULL ??= '0';
  const work = mkdtempSync(join(tmpdir(), 'wvo-demo-'));
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  };
  // Ctrl-C still removes every lane, the proxy and the scratch dir.
  process.once('SIGINT', () => {
    say('\ninterrupted: cleaning up');
    void cleanUp().finally(() => process.exit(130));
  });
  try {
    heading('Runtime');
    const forced = process.env.WVO_DEMO_RUNTIME as 'docker' | 'local' | undefined;
    // A project of its own (container names, labels, network, lane records), so the demo never
    // touches lanes a real deployment on this machine runs.
    const project = `wvo-demo-${randomBytes(3).toString('hex')}`;
    const context = await openCliContext({ runtime: forced ?? 'auto' }, 'wvo-demo', {
      projectName: project,
      stateRoot: join(work, 'controller-state'),
    });
    say(context.reason);
    // Images the demo tagged (blue, the staged candidate); layers shared with others stay.
    const demoImages: string[] = [];
    cleanups.push(async () => {
      if (context.runtime instanceof DockerRuntime) await removeDemoDocker(context.runtime, demoImages);
      await context.runtime.close();
    });

    heading('Workspace: this project in a scratch git repository; blue = HEAD~1, green = HEAD');
    const ws = await copyWorkspaceToGitRepo(PROJECT_ROOT, join(work, 'ws'));
    makeGreenChange(ws.dir);
    await ws.commit('green: plan_next reports each task rank');
    say(`${ws.dir}\n${await ws.git('log', '--oneline', '-2')}`);

    heading('Live state: 500 seeded tasks with dependency chains, critics and history');
    const stateRoot = join(ws.dir, 'state');
    const seeded = seedState({ stateRoot, tasks: 500, seed: 42 });
    say(table(Object.entries(seeded.by_status).map(([status, count]) => [status, String(count)])));

    heading('Blue: build HEAD~1 and start it as the live lane');
    const blueStage = await stageGitRef({
      workspace: ws.dir,
      ref: 'HEAD~1',
      stageDir: join(ws.dir, 'tmp', 'demo-blue'),
      depsCacheRoot: join(ws.dir, 'tmp', 'wv-deps'),
      logger: silentLogger(),
    });
    await buildStagedTree(blueStage.dir, join(ws.dir, 'tmp', 'wv-build'), silentLogger(), WORKER_APP_CONFIG.workspace?.buildScript);
    const blueImage = await context.images.build(blueStage.dir, 'wvo-worker:demo-blue', (message) => {
      if (!/Step \d+\/\d+/.test(message)) say(`  ${message}`);
    });
    demoImages.push(blueImage);
    // Lanes accept flag flips from the controller with this token (PUT /admin/flags/:name).
    const workerToken = randomBytes(16).toString('hex');
    process.env[WORKER_TOKEN_ENV] = workerToken;
    const blue = await context.runtime.startLane({
      name: BLUE,
      image: blueImage,
      stateDir: stateRoot,
      role: 'live',
      dryRun: false,
      env: { [WORKER_TOKEN_ENV]: workerToken },
    });
    // Every lane the demo or its promotion started (blue, green, shadow lanes) goes at the end.
    cleanups.push(async () => {
      for (const lane of await context.runtime.listLanes()) await context.runtime.removeLane(lane.name).catch(() => undefined);
    });
    say(`blue serving at ${blue.url} (${context.chosen})`);

    heading('Proxy: agents connect here; sessions are pinned to the lane that created them');
    const token = randomBytes(16).toString('hex');
    const proxy: RunningProxy = await startProxy({
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      token,
      statePath: join(work, 'routes.json'),
      drainTimeoutMs: 2_000,
      lanes: [{ name: BLUE, url: blue.url! }],
      active: BLUE,
      logger: silentLogger(),
    });
    cleanups.push(() => proxy.close());
    say(`proxy ${proxy.url}/mcp → ${BLUE}`);

    heading('Load: 40 MCP sessions through the proxy: 32 readers, 8 writer agents (dispatch → verify → report)');
    // Sessions renew every 20 turns (agents come and go): a weighted step splits new sessions.
    const load = await startLoad({ url: proxy.url, sessions: 40, writers: 8, intervalMs: 150, maxDurationMs: 15 * 60_000, renewEvery: 20 });
    cleanups.push(() => load.stop());
    say(`${load.snapshot().sent} calls so far`);

    // One control plane for the rest: the demo's proxy admin client and one controller.db.
    const admin = new ProxyAdminClient({ url: proxy.adminUrl, token });
    cleanups.push(() => admin.close());
    const plane = await ControlPlane.open({
      config: context.loaded.config,
      projectRoot: ws.dir,
      stateRoot,
      runtime: context.runtime,
      images: context.images,
      proxy: admin,
      logger: silentLogger(),
    });
    cleanups.push(() => plane.close());

    heading('wvo upgrade: shadow the green change against blue (sandboxed lanes, answers and state diffed, noise cancelled)');
    // Promotion refuses a run whose tests were skipped: the staged copy runs the worker's unit tests.
    const testCommand = ['npx', 'vitest', 'run', 'test/unit/worker-logic.test.ts', 'test/unit/worker-executor.test.ts'];
    // Run, then record it in controller.db (the baseline is the proxy's active lane).
    const { result: upgrade, summary } = await upgradeAndRecord(plane, {
      options: parseUpgradeOptions({ workspace: ws.dir, testCommand }),
      onEvent: plainReporter((line) => say(line)).onEvent,
    });
    demoImages.push(`wvo-worker:${upgrade.id}`, `wvo-worker:${upgrade.id}-baseline`);
    if (upgrade.outcome === 'failed') throw new Error(`upgrade failed: ${JSON.stringify(upgrade.error)}`);
    if (upgrade.finalLine) say(upgrade.finalLine);
    const kept = join(PROJECT_ROOT, 'experiments', 'mcp', 'upgrade', upgrade.id);
    say(`report: ${relative(process.cwd(), join(kept, 'report.html'))}`);

    heading('Soak: replay blue\'s journal (the writer agents\' calls) to the candidate and a baseline replica on sandbox forks for 5 s');
    const soak = await demoSoak({
      config: context.loaded.config,
      projectRoot: ws.dir,
      stateRoot,
      runtime: context.runtime,
      upgradeId: upgrade.id,
      soakMs: 5_000,
      say,
    });
    say(`soak ${soak.state}: replayed ${soak.replayed} calls (${soak.backlog} made while its lanes started), lag p99 ${soak.lagP99Ms} ms after that, answer diffs ${soak.answerDiffs}, state diffs ${soak.stateDiffs} (${soak.checkpoints} checkpoints, clean ${soak.seconds.toFixed(1)} s)`);

    heading('Promote: canary live, 25 % then 50 % of new sessions (each analysed against blue), switch, observe 8 s with PROMPT_MODE flipped');
    say(`baseline ${summary.baseline.lane} (${summary.baseline.image}) → candidate ${summary.candidate.lane} (${summary.candidate.image})`);
    let lastState = '';
    let analysed = 0;
    const watch = setInterval(() => {
      const running = plane.store.running();
      if (!running) return;
      const step = running.state === 'weighted' ? ` (${running.observation?.weight ?? '?'}% of new sessions on ${summary.candidate.lane})` : '';
      if (`${running.state}${step}` !== lastState) say(`  state: ${(lastState = `${running.state}${step}`)}`);
      for (const a of running.analyses.slice(analysed)) {
        say(`    interval @${a.weight}% vs ${a.comparison === 'live' ? 'blue, same traffic' : a.comparison === 'pre_switch' ? 'blue before the switch' : 'nothing'}: ${a.verdict}${a.score === null ? '' : ` (score ${a.score})`}, gates ${a.gates}`);
      }
      analysed = running.analyses.length;
    }, 100);
    const promoteStarted = Date.now();
    // Default keep-warm (30 s): blue keeps running (no traffic) after promotion, so the rollback
    // below is a proxy switch rather than a restart; `done` settles when the window ends or a rollback takes over.
    const { deployment, done: promotionDone } = await plane.operations.begin({
      upgradeId: upgrade.id,
      steps: '25,50',
      observeMs: '8s',
      intervalMs: '2s',
      flags: ['PROMPT_MODE'],
      maxFailedChecks: 3,
      probes: [{ name: 'queue-total', tool: 'orchestrator_status', expect: [{ path: '$.queue.total', type: 'integer' }] }],
      // Refused (WVO_SOAK_REQUIRED) unless the soak above stayed clean this long.
      requireSoak: '3s',
    });
    const promoted = await untilSettled(plane, deployment.id, promotionDone).finally(() => clearInterval(watch));
    say(`  state: ${promoted.state} after ${((Date.now() - promoteStarted) / 1000).toFixed(1)} s`);
    const switches = plane.runner.switches;
    const switchMs = switches[0]?.took_ms;
    say(`active lane: ${(await admin.lanes()).active}`);

    heading('Rollback: blue serves again (its lane was kept warm), sessions move back at once');
    const rollbackStarted = Date.now();
    const rolledBack = await plane.operations.rollback({ reason: 'demo: show the way back' });
    await promotionDone;
    const rollbackMs = Date.now() - rollbackStarted;
    // What users feel: the proxy routing to blue again (blue restarted first); the command then also drains and stops green.
    const back = [...plane.runner.switches].reverse().find((s) => s.rollback);
    const trafficBackMs = back ? Date.parse(back.at) - rollbackStarted : undefined;
    say(`  state: ${rolledBack.state} in ${rollbackMs} ms (traffic on blue after ${trafficBackMs ?? 'n/a'} ms); active lane: ${(await admin.lanes()).active}`);

    heading('Closing table');
    const report: LoadReport = await load.stop();
    say(
      table([
        ['runtime', context.chosen],
        ['MCP sessions (writer agents)', `${report.sessions} (${report.writers}: ${report.dispatched} tasks claimed, verified, reported)`],
        ['requests sent', String(report.sent)],
        ['requests failed', String(report.failed)],
        ['sessions still answering', `${report.sessionsAlive}/${report.sessions}`],
        // One logical change is one group: the green `rank` field is one addition, however many tasks show it.
        ['shadow answer groups', String(upgrade.shadow?.answerGroups ?? 0)],
        ['shadow state differences', String(upgrade.shadow?.stateDifferences ?? 0)],
        ['shadow raw diffs (reported / noise)', `${upgrade.shadow?.reported ?? 0} / ${upgrade.shadow?.cancelled ?? 0}`],
        ['soak replayed calls', String(soak.replayed)],
        ['soak lag p99 (calls after its lanes were up)', `${soak.lagP99Ms} ms`],
        ['soak answer diffs', String(soak.answerDiffs)],
        ['soak state diffs', String(soak.stateDiffs)],
        ['rollback-safe schema', String(upgrade.schemaCompat?.safe ?? 'n/a')],
        ['promotion', `${promoted.state} (25 % → 50 % → switch, 8 s observed per step, PROMPT_MODE flipped)`],
        ['analysis (intervals: verdicts, lowest score)', analysisSummary(promoted)],
        ['switch (admin call → new lane)', switchMs === undefined ? 'n/a' : `${Math.round(switchMs)} ms`],
        ['rollback (command → traffic on blue; blue kept warm)', trafficBackMs === undefined ? 'n/a' : `${trafficBackMs} ms`],
        ['rollback (whole command, green stopped)', `${rollbackMs} ms`],
      ]),
    );
    // Keep the artifacts (steps, shadow diffs, report, promotion plan) after the scratch dir is gone.
    cpSync(upgrade.artifactsDir, kept, { recursive: true });
    say(`\nartifacts: ${relative(process.cwd(), kept)}/ (steps.json, shadow.json, report.html, promotion_plan.json)`);
    if (report.failed > 0) {
      say(`failures: ${report.failures.join('\n  ')}`);
      process.exitCode = 1;
    }
  } finally {
    await cleanUp();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${formatError(error)}\n`);
  process.exitCode = 1;
});

/** `7: 5 pass, 2 insufficient; lowest 92.3` */
function analysisSummary(record: DeploymentRecord): string {
  const counts = new Map<string, number>();
  for (const a of record.analyses) counts.set(a.verdict, (counts.get(a.verdict) ?? 0) + 1);
  const scores = record.analyses.map((a) => a.score).filter((s): s is number => s !== null);
  const verdicts = [...counts].map(([v, n]) => `${n} ${v}`).join(', ');
  return `${record.analyses.length}: ${verdicts || 'none'}${scores.length ? `; lowest score ${Math.min(...scores)}` : ''}`;
}

/** The deployment once promoted or rolled back (with keep-warm, `done` settles later than that). */
async function untilSettled(plane: ControlPlane, id: string, done: Promise<unknown>): Promise<DeploymentRecord> {
  let failed: unknown;
  done.catch((error: unknown) => (failed = error));
  for (;;) {
    if (failed) throw failed;
    const record = plane.store.get(id);
    if (record.state === 'promoted' || record.state === 'rolled_back') return record;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
