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
import { openCliContext } from '../cli/context.js';
import { buildStagedTree } from '../harness/build.js';
import { parseUpgradeOptions } from '../harness/options.js';
import { plainReporter } from '../harness/progress.js';
import { stageGitRef } from '../harness/stage.js';
import { runUpgrade, type UpgradeResult } from '../harness/upgrade.js';
import { copyWorkspaceToGitRepo } from '../harness/workspace-copy.js';
import { startProxy, type RunningProxy } from '../proxy/index.js';
import { seedState } from '../../../worker/src/index.js';

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
  try {
    heading('Runtime');
    const forced = process.env.WVO_DEMO_RUNTIME as 'docker' | 'local' | undefined;
    const context = await openCliContext({ runtime: forced ?? 'auto' }, 'wvo-demo');
    say(context.reason);
    cleanups.push(() => context.runtime.close());

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
    await buildStagedTree(blueStage.dir, join(ws.dir, 'tmp', 'wv-build'), silentLogger());
    const blueImage = await context.images.build(blueStage.dir, 'wvo-worker:demo-blue', (message) => say(`  ${message}`));
    const blue = await context.runtime.startLane({ name: BLUE, image: blueImage, stateDir: stateRoot, role: 'live', dryRun: false });
    cleanups.push(() => context.runtime.removeLane(BLUE));
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

    heading('Load: 40 MCP sessions calling tools steadily through the proxy');
    const load = await startLoad({ url: proxy.url, sessions: 40, intervalMs: 150, maxDurationMs: 15 * 60_000 });
    cleanups.push(() => load.stop());
    say(`${load.snapshot().sent} calls so far`);

    heading('wvo upgrade: shadow the green change against blue (three DRY_RUN lanes, noise cancelled)');
    const upgrade: UpgradeResult = await runUpgrade(
      parseUpgradeOptions({ workspace: ws.dir, skipTests: true }),
      {
        projectRoot: ws.dir,
        stateRoot,
        runtime: context.runtime,
        images: context.images,
        onEvent: plainReporter((line) => say(line)).onEvent,
      },
    );
    if (upgrade.outcome === 'failed') throw new Error(`upgrade failed: ${JSON.stringify(upgrade.error)}`);
    if (upgrade.finalLine) say(upgrade.finalLine);
    // Keep the artifacts where the user can open them after the scratch dir is gone.
    const kept = join(PROJECT_ROOT, 'experiments', 'mcp', 'upgrade', upgrade.id);
    cpSync(upgrade.artifactsDir, kept, { recursive: true });
    say(`report: ${relative(process.cwd(), join(kept, 'report.html'))}`);

    heading('Closing table');
    const report: LoadReport = await load.stop();
    say(
      table([
        ['runtime', context.chosen],
        ['MCP sessions', String(report.sessions)],
        ['requests sent', String(report.sent)],
        ['requests failed', String(report.failed)],
        ['sessions still answering', `${report.sessionsAlive}/${report.sessions}`],
        ['shadow diffs reported', String(upgrade.shadow?.reported ?? 0)],
        ['noise cancelled', String(upgrade.shadow?.cancelled ?? 0)],
        ['rollback-safe schema', String(upgrade.schemaCompat?.safe ?? 'n/a')],
      ]),
    );
    if (report.failed > 0) {
      say(`failures: ${report.failures.join('\n  ')}`);
      process.exitCode = 1;
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${formatError(error)}\n`);
  process.exitCode = 1;
});
