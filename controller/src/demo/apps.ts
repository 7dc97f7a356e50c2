/**
 * `npm run demo:apps`: WVO upgrading someone else's MCP server. The protocol's reference
 * "everything" server, two published versions from npm (devDependencies everything-a and
 * everything-b), runs as local commands: blue serves 2026.1.26 behind the proxy (MCP health)
 * under load from SDK sessions; `wvo upgrade --app everything --candidate everything-b` shadows
 * it with read-only or vouched-for tools, classifies the tool surface, promotes; then the way
 * back, and the gate refusing the breaking direction. Prints requests sent / failed.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { formatError, isWvoError } from '../../../common/src/errors.js';
import { silentLogger } from '../../../common/src/logger.js';
import { startLoad } from '../../../common/src/mcp-load.js';
import { parseConfig } from '../config/index.js';
import { parseUpgradeOptions, plainReporter } from '../harness/index.js';
import { ControlPlane, resolveUpgradeApp, upgrade } from '../operations/index.js';
import { ProxyAdminClient, startProxy } from '../proxy/index.js';
import { LocalRuntime, localImageStore } from '../runtime/index.js';

const PROJECT_ROOT = join(import.meta.dirname, '..', '..', '..', '..');
const say = (line: string) => process.stdout.write(`${line}\n`);
const heading = (line: string) => say(`\n== ${line}`);

async function main(): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'wvo-demo-apps-'));
  const stateRoot = join(work, 'state');
  mkdirSync(stateRoot, { recursive: true });
  const cleanups: Array<() => unknown> = [() => rmSync(work, { recursive: true, force: true })];
  try {
    const config = parseConfig({
      runtime: 'local',
      apps: {
        everything: {
          command: ['node', 'node_modules/{image}/dist/index.js', 'streamableHttp'],
          cwd: PROJECT_ROOT,
          port: 3001,
          mcpPath: '/mcp',
          health: 'mcp',
          env: { port: 'PORT' },
          suites: [join(PROJECT_ROOT, 'test', 'fixtures', 'suites', 'everything.json')],
        },
      },
    });
    const app = resolveUpgradeApp(config, PROJECT_ROOT, 'everything');
    const runtime = new LocalRuntime({ runDir: join(stateRoot, 'runtime', 'local'), readyTimeoutMs: 30_000, stopTimeoutMs: 5_000 });
    cleanups.push(async () => {
      for (const lane of await runtime.listLanes()) await runtime.removeLane(lane.name, { timeoutMs: 2_000 });
    });

    heading('blue: @modelcontextprotocol/server-everything 2026.1.26 (a local command), behind the proxy, health = MCP');
    const blue = await runtime.startLane({ name: 'blue', image: 'everything-a', stateDir: stateRoot, role: 'live', dryRun: false, app: app.lane });
    const token = randomBytes(16).toString('hex');
    const proxy = await startProxy({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', token, statePath: join(work, 'routes.json'), drainTimeoutMs: 1_000, lanes: [{ name: 'blue', url: blue.url!, health: 'mcp' }], active: 'blue', logger: silentLogger() });
    cleanups.push(() => proxy.close());
    const admin = new ProxyAdminClient({ url: proxy.adminUrl, token });
    cleanups.push(() => admin.close());
    say(`proxy ${proxy.url}/mcp → blue (${blue.url})`);

    heading('Load: 20 MCP sessions calling echo and get-sum through the proxy');
    const load = await startLoad({ url: proxy.url, sessions: 20, intervalMs: 100, maxDurationMs: 10 * 60_000, calls: [{ tool: 'echo', arguments: { message: 'hi' } }, { tool: 'get-sum', arguments: { a: 2, b: 40 } }] });
    cleanups.push(() => load.stop());

    const plane = await ControlPlane.open({ config, projectRoot: work, stateRoot, runtime, images: localImageStore(work), proxy: admin, logger: silentLogger() });
    cleanups.push(() => plane.close());
    const promotion = { observeMs: '3s', intervalMs: '1s', keepWarmMs: '1m' };

    heading('wvo upgrade --app everything --candidate everything-b --promote (image to image: no stage, build or test)');
    const up = await upgrade(plane, { options: parseUpgradeOptions({ app: 'everything', candidate: 'everything-b' }), app, promotion, onEvent: plainReporter(say).onEvent });
    // The run's artifacts outlive the demo's scratch directory.
    const kept = join(PROJECT_ROOT, 'experiments', 'mcp', 'upgrade', up.result.id);
    cpSync(up.result.artifactsDir, kept, { recursive: true });
    say(`report: ${relative(process.cwd(), join(kept, 'report.html'))}`);
    say(`tool surface: ${JSON.stringify(up.result.toolSurface)}; deployment ${up.deployment?.state}; active ${(await admin.lanes()).active}`);

    heading('wvo rollback');
    const started = Date.now();
    const back = await plane.operations.rollback({ reason: 'demo: the way back' });
    say(`${back.state} in ${Date.now() - started} ms; active ${(await admin.lanes()).active}`);

    heading('wvo upgrade --app everything --candidate everything-a --baseline everything-b --promote (the breaking direction)');
    try {
      await upgrade(plane, { options: parseUpgradeOptions({ app: 'everything', candidate: 'everything-a', baseline: 'everything-b' }), app, promotion });
      say('promoted (unexpected)');
    } catch (error) {
      if (!isWvoError(error)) throw error;
      say(`refused: ${error.code}: ${error.message}`);
    }

    const report = await load.stop();
    heading('Figures');
    say(`requests sent ${report.sent}, failed ${report.failed}; sessions kept ${report.sessionsAlive}/${report.sessions}`);
    return report.failed === 0 ? 0 : 1;
  } catch (error) {
    process.stderr.write(`${formatError(error)}\n`);
    return 1;
  } finally {
    for (const fn of cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => undefined);
  }
}

process.exitCode = await main();
