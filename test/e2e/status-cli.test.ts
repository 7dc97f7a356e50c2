import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runWvoCli, type CliRun } from '../helpers/cli.js';
import {
  DeploymentStore,
  buildPromotionPlan,
  newDeploymentRecord,
  parsePromotionOptions,
  transition,
  type UpgradeSummary,
} from '../../controller/src/promotion/index.js';
import { writeUpgradeShadowSummary } from '../../controller/src/shadow/index.js';
import { writeWorkerManagerFile } from '../../controller/src/promotion/worker-manager-file.js';
import { seedState } from '../../worker/src/index.js';
import { startProxy } from '../../controller/src/proxy/index.js';
import { silentLogger } from '../../common/src/logger.js';

/** `wvo status` as users run it: the built CLI in a project directory, no `wvo serve` running. */

let dir: string;
let stateRoot: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wvo-status-e2e-'));
  stateRoot = join(dir, 'state');
  seedState({ stateRoot, tasks: 30, seed: 7 });
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

function status(args: string[] = ['--json']): Promise<CliRun> {
  return runWvoCli(['status', '--runtime', 'local', ...args], { cwd: dir });
}

const summary: UpgradeSummary = {
  id: 'up-7',
  outcome: 'passed',
  steps: [
    { name: 'test', status: 'ok' },
    { name: 'schema-compat', status: 'ok' },
  ],
  baseline: { lane: 'blue', image: 'wvo-worker:v1' },
  candidate: { lane: 'green', image: 'wvo-worker:up-7' },
};

describe('wvo status', () => {
  it('answers the same from the one-file bundle (default) and from the modules (WVO_CLI_BUNDLE=0)', async () => {
    const bundled = await status(['--json']);
    const modules = await runWvoCli(['status', '--runtime', 'local', '--json'], { cwd: dir, env: { WVO_CLI_BUNDLE: '0' } });
    expect(bundled.code, bundled.stderr).toBe(0);
    expect(JSON.parse(modules.stdout)).toEqual(JSON.parse(bundled.stdout));
  });

  it('on a seeded state with nothing else: no lanes, no switch, no deployment, no shadow run', async () => {
    const out = await status();
    expect(out.code, out.stderr).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json).toMatchObject({ ok: true, runtime: 'local', lanes: [], active: null, deployment: null, shadow: null, upgrade_lock: { state: 'free' }, warnings: [] });
  });

  it('shows the last shadow diff count, the active lane and version, and the running deployment and its step', async () => {
    await writeUpgradeShadowSummary({
      stateRoot,
      count: 3,
      shadowJsonPath: join(dir, 'experiments', 'mcp', 'upgrade', 'up-7', 'shadow.json'),
      relativeTo: dir,
      recordedAt: new Date('2026-01-02T03:04:05.000Z'),
    });
    writeWorkerManagerFile(stateRoot, {
      active_lane: 'green',
      lanes: [
        { name: 'blue', image: 'wvo-worker:v1', version: '0.1.0', status: 'draining' },
        { name: 'green', image: 'wvo-worker:up-7', version: '0.2.0', status: 'active' },
      ],
      versions: { blue: '0.1.0', green: '0.2.0' },
      last_switch: { from: 'blue', to: 'green', at: '2026-01-02T03:10:00.000Z', reason: 'promote', deployment_id: 'dep-7' },
      deployment: { id: 'dep-7', upgrade_id: 'up-7', state: 'observing' },
      updated_at: '2026-01-02T03:10:00.000Z',
    });
    const store = DeploymentStore.open(stateRoot);
    try {
      store.recordUpgrade(summary, 1);
      const plan = buildPromotionPlan(summary, parsePromotionOptions({ observeMs: '1m', intervalMs: '10s', flags: 'PROMPT_MODE' }));
      let record = store.createDeployment(newDeploymentRecord('dep-7', plan, 1_000));
      for (const event of [{ type: 'start' }, { type: 'canary_ready' }, { type: 'switched' }] as const) {
        record = store.commit(transition(record, event, record.updatedAt + 1_000));
      }
      expect(record.state).toBe('observing');
    } finally {
      store.close();
    }

    const out = await status();
    expect(out.code, out.stderr).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json.shadow).toEqual({ count: 3, path: 'experiments/mcp/upgrade/up-7/shadow.json', recorded_at: '2026-01-02T03:04:05.000Z' });
    expect(json.active).toEqual({
      lane: 'green',
      image: 'wvo-worker:up-7',
      version: '0.2.0',
      last_switch: { from: 'blue', to: 'green', at: '2026-01-02T03:10:00.000Z' },
      source: 'worker_manager',
    });
    expect(json.deployment).toMatchObject({ id: 'dep-7', upgrade_id: 'up-7', state: 'observing', running: true });
    expect(json.deployment.step).toMatch(/^observing phase 1\/2: 0 checks, 0 failed$/);
    expect(json.warnings).toEqual([]);

    const human = await status([]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('(none running)');
    expect(human.stdout).toMatch(/active\s+green\s+version 0\.2\.0/);
    expect(human.stdout).toMatch(/deploy\s+dep-7 \(upgrade up-7\)\s+observing \[running\]/);
    expect(human.stdout).toMatch(/shadow\s+3 diff\(s\)/);
  });

  it('before the first switch, with a proxy configured: the active lane is what the proxy routes to', async () => {
    const token = 'status-e2e-token';
    const proxy = await startProxy({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', token, statePath: join(dir, 'routes.json'), lanes: [{ name: 'blue', url: 'http://127.0.0.1:9' }], active: 'blue', logger: silentLogger() });
    try {
      writeFileSync(join(dir, 'wvo.config.json'), JSON.stringify({ proxy: { admin: proxy.adminUrl } }));
      const out = await runWvoCli(['status', '--runtime', 'local', '--json'], { cwd: dir, env: { WVO_PROXY_TOKEN: token } });
      expect(out.code, out.stderr).toBe(0);
      const json = JSON.parse(out.stdout);
      expect(json.active).toEqual({ lane: 'blue', image: null, version: null, last_switch: null, source: 'proxy' });
      expect(json.warnings).toEqual([]);
      const human = await runWvoCli(['status', '--runtime', 'local'], { cwd: dir, env: { WVO_PROXY_TOKEN: token } });
      expect(human.stdout).toMatch(/active\s+blue\s+version \?\s+\(from the proxy's routes\)/);
    } finally {
      await proxy.close();
    }
    // The proxy is gone: a warning names it, and nothing else claims to serve.
    const down = await runWvoCli(['status', '--runtime', 'local', '--json'], { cwd: dir, env: { WVO_PROXY_TOKEN: token } });
    expect(down.code, down.stderr).toBe(0);
    const json = JSON.parse(down.stdout);
    expect(json.active).toBeNull();
    expect(json.warnings).toEqual([expect.objectContaining({ source: 'proxy' })]);
  });

  it('a damaged file is a warning, not a failure', async () => {
    mkdirSync(join(stateRoot, 'analytics'), { recursive: true });
    writeFileSync(join(stateRoot, 'analytics', 'worker_manager.json'), '{"active_lane": 5}');
    const out = await status();
    expect(out.code, out.stderr).toBe(0);
    const json = JSON.parse(out.stdout);
    expect(json.active).toBeNull();
    expect(json.warnings).toEqual([expect.objectContaining({ source: 'worker_manager.json', code: 'WVO_WORKER_MANAGER_INVALID' })]);
  });
});
