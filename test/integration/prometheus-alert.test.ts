import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../common/src/clock.js';
import type { UpgradeResult } from '../../controller/src/harness/upgrade.js';
import { recordHarnessRun } from '../../controller/src/operations/index.js';
import { DeploymentStore } from '../../controller/src/promotion/index.js';
import { startProxy, type RunningProxy } from '../../controller/src/proxy/index.js';
import { LocalRuntime } from '../../controller/src/runtime/index.js';
import { freeLoopbackPort as freePort, until as waitUntil } from '../helpers/wait.js';

/**
 * The seed's alert, end to end in a real Prometheus (Debian's `prometheus`): it scrapes a real
 * `wvo serve` and a real proxy, evaluates compose/alert-rules.yml every second, and
 * WvoShadowDiffsRepeated is seen firing through its HTTP API once three recorded upgrade runs in a
 * row ended with shadow differences — recorded in controller.db by the operations' own record
 * function, which `wvo upgrade` (CLI) and `POST /upgrades` (API) both use.
 */
const REPO_ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(REPO_ROOT, 'dist', 'controller', 'src', 'cli', 'main.js');
const TOKEN = 'prom-test-controller-token-0123';
const PROXY_TOKEN = 'prom-test-proxy-token-0123456789';
const REQUIRED = process.env.WVO_REQUIRE_DOCKER === '1';
const prometheusBin = (await execa('prometheus', ['--version'], { reject: false }).catch(() => ({ exitCode: 1 }))).exitCode === 0;
if (REQUIRED && !prometheusBin) throw new Error('WVO_REQUIRE_DOCKER=1 but the prometheus binary is not installed (apt-get install prometheus)');

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> => waitUntil(what, probe, timeoutMs, 250);

/** A harness run as the harness returns it (plain data): `reported` shadow differences, or a build failure. */
function run(id: string, reported: number | 'failed'): UpgradeResult {
  const failed = reported === 'failed';
  return {
    id,
    outcome: failed ? 'failed' : reported > 0 ? 'warnings' : 'passed',
    exitCode: failed ? 1 : reported > 0 ? 2 : 0,
    finalLine: undefined,
    artifactsDir: join('experiments', 'mcp', 'upgrade', id),
    steps: [{ name: 'build', status: failed ? 'failed' : 'ok', started_at: new Date().toISOString(), duration_ms: 1, detail: {} }] as UpgradeResult['steps'],
    ...(failed ? {} : { shadow: { count: reported, answerGroups: reported, stateDifferences: 0, reported, cancelled: 0, shadowJson: 'shadow.json', reportHtml: 'report.html' } }),
    testsSkipped: false,
  };
}

describe.skipIf(!prometheusBin)('WvoShadowDiffsRepeated in a real Prometheus', () => {
  let dir: string;
  let serve: ChildProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let proxy: RunningProxy | undefined;
  let store: DeploymentStore;
  let promUrl: string;
  const runtime = () => new LocalRuntime({ runDir: join(dir, 'state', 'runtime', 'local') });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wvo-prometheus-'));
    mkdirSync(join(dir, 'state'), { recursive: true });
    store = DeploymentStore.open(join(dir, 'state'));
    // wvo serve (the controller API and its /metrics), its state in dir/state.
    serve = spawn(process.execPath, [MAIN, 'serve', '--runtime', 'local', '--listen', '127.0.0.1:0', '--no-reconcile'], {
      cwd: dir,
      env: { ...process.env, WVO_CONTROLLER_TOKEN: TOKEN, WVO_LOG_PRETTY: '0', WVO_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const serveUrl = await new Promise<string>((resolve, reject) => {
      createInterface({ input: serve!.stdout! }).on('line', (line) => {
        try {
          const json = JSON.parse(line) as { event?: string; url?: string };
          if (json.event === 'listening' && json.url) resolve(json.url);
        } catch {
          // not the listening line
        }
      });
      serve!.once('exit', (code) => reject(new Error(`wvo serve exited ${code}`)));
    });
    proxy = await startProxy({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', token: PROXY_TOKEN, statePath: join(dir, 'routes.json') });

    // Prometheus: loopback, a free port, 1 s scrapes and evaluations, the compose rules as they are.
    writeFileSync(join(dir, 'controller_token'), TOKEN);
    writeFileSync(join(dir, 'proxy_token'), PROXY_TOKEN);
    copyFileSync(join(REPO_ROOT, 'compose', 'alert-rules.yml'), join(dir, 'alert-rules.yml'));
    const hostOf = (url: string) => new URL(url).host;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: {scrape_interval: 1s, evaluation_interval: 1s}',
        `rule_files: [${JSON.stringify(join(dir, 'alert-rules.yml'))}]`,
        'scrape_configs:',
        `  - {job_name: wvo-controller, authorization: {type: Bearer, credentials_file: ${JSON.stringify(join(dir, 'controller_token'))}}, static_configs: [{targets: ["${hostOf(serveUrl)}"]}]}`,
        `  - {job_name: wvo-proxy, authorization: {type: Bearer, credentials_file: ${JSON.stringify(join(dir, 'proxy_token'))}}, static_configs: [{targets: ["${hostOf(proxy.adminUrl)}"]}]}`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: 'ignore' },
    );
  }, 60_000);

  afterAll(async () => {
    const stopped = (child: ChildProcess | undefined) =>
      child && child.exitCode === null ? new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); }) : undefined;
    await Promise.all([stopped(prometheus), stopped(serve)]);
    await proxy?.close();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = async <T>(path: string): Promise<T> => ((await (await fetch(`${promUrl}${path}`)).json()) as { data: T }).data;
  const alert = async () =>
    (await api<{ alerts: Array<{ labels: { alertname: string }; state: string; value: string }> }>('/api/v1/alerts')).alerts.find(
      (a) => a.labels.alertname === 'WvoShadowDiffsRepeated',
    );
  const streak = async () => {
    const result = await api<{ result: Array<{ value: [number, string] }> }>('/api/v1/query?query=wvo_shadow_diff_consecutive_runs');
    return result.result[0] ? Number(result.result[0].value[1]) : undefined;
  };
  const record = (id: string, reported: number | 'failed') => recordHarnessRun({ store, result: run(id, reported), runtime: runtime(), clock: systemClock });

  it('fires after three recorded runs with differences in a row, not after two; a clean run resolves it', async () => {
    // Both targets scraped (with their bearer tokens).
    await until('both targets up', async () => {
      const { activeTargets } = await api<{ activeTargets: Array<{ labels: { job: string }; health: string }> }>('/api/v1/targets');
      const up = activeTargets.filter((t) => t.health === 'up').map((t) => t.labels.job).sort();
      return up.join() === 'wvo-controller,wvo-proxy' ? up : undefined;
    });

    await record('up-1', 0);
    await record('up-2', 4);
    await record('up-3', 'failed'); // failed at build: no shadow result, passed over
    await record('up-4', 2);
    await until('streak 2 scraped', async () => ((await streak()) === 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 2_500)); // two more evaluations
    expect(await alert()).toBeUndefined();

    await record('up-5', 1);
    const firing = await until('WvoShadowDiffsRepeated firing', async () => {
      const a = await alert();
      return a?.state === 'firing' ? a : undefined;
    });
    expect(firing).toMatchObject({ state: 'firing', labels: { alertname: 'WvoShadowDiffsRepeated', job: 'wvo-controller', severity: 'warning' } });
    expect(Number(firing.value)).toBe(3);

    await record('up-6', 0);
    await until('alert resolved after a clean run', async () => ((await alert()) === undefined ? true : undefined));
    expect(await streak()).toBe(0);
  }, 90_000);
});
