import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { acquireLock } from '../../controller/src/harness/lock.js';
import { localImageStore } from '../../controller/src/runtime/index.js';
import { parseUpgradeOptions, type UpgradeOptionsInput } from '../../controller/src/harness/options.js';
import { stepsFileSchema } from '../../controller/src/harness/steps.js';
import { runUpgrade, type UpgradeResult } from '../../controller/src/harness/upgrade.js';
import { CONTROLLER_DB_FILE, DeploymentStore } from '../../controller/src/promotion/index.js';
import type { LaneInfo, LaneSpec, StartOptions } from '../../controller/src/runtime/lane-runtime.js';
import { LocalRuntime } from '../../controller/src/runtime/local/local-runtime.js';
import { readShadowJson } from '../../controller/src/shadow/index.js';
import { MIGRATIONS } from '../../worker/src/index.js';
import { startHarnessRig, type HarnessRig } from '../helpers/harness-rig.js';
import type { TempWorkspace } from '../helpers/workspace.js';
import { editWorkspaceFile } from '../helpers/workspace-edit.js';

/**
 * The whole harness on the local runtime: a real workspace (git), a real seeded state DB, real
 * worker processes as lanes, real MCP clients. Changes are made to a temp copy by the test.
 */
let rig: HarnessRig;
let ws: TempWorkspace;
let runtime: LocalRuntime;
let stateRoot: string;

function sha256(path: string): string {
  return existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : 'absent';
}

/**
 * The live DB's bytes, and its WAL's. A read-only SQLite open may create an empty -wal (and
 * -shm) where none existed: that holds no data, so absent and empty count as the same.
 */
const EMPTY_SHA256 = createHash('sha256').digest('hex');
function liveStateChecksums(): Record<string, string> {
  return Object.fromEntries(
    ['orchestrator.db', 'orchestrator.db-wal'].map((name) => {
      const sum = sha256(join(stateRoot, name));
      return [name, sum === EMPTY_SHA256 ? 'absent' : sum];
    }),
  );
}

const upgrade = (input: Partial<UpgradeOptionsInput> = {}): Promise<UpgradeResult> => rig.upgrade(input);

const edit = (file: string, from: string | RegExp, to: string) => editWorkspaceFile(ws.dir, file, from, to);

const expectCleanAfter = (result: UpgradeResult): Promise<void> => rig.expectNothingLeft(result);

beforeAll(async () => {
  rig = await startHarnessRig({ defaults: { readyTimeoutMs: 30_000 } });
  ({ ws, stateRoot, runtime } = rig);
}, 120_000);

afterAll(() => rig?.close());

describe('wvo upgrade on the local runtime', () => {
  it('reports 0 diffs for a no-op rebuild, 5 runs out of 5, and never writes the live DB', async () => {
    const before = liveStateChecksums();
    for (let run = 0; run < 5; run++) {
      const result = await upgrade();
      expect(result.error).toBeUndefined();
      expect(result.outcome, JSON.stringify(result.steps.map((s) => [s.name, s.status]))).toBe('passed');
      expect(result.shadow?.reported).toBe(0);
      // Answer groups + state differences (sandboxed lanes, both passes).
      expect(result.shadow?.count).toBe(0);
      expect(result.finalLine).toBe('[upgrade] All checks passed.');
      expect(result.exitCode).toBe(0);
      await expectCleanAfter(result);
    }
    expect(liveStateChecksums()).toEqual(before);
    const summary = JSON.parse(readFileSync(join(stateRoot, 'analytics', 'upgrade_shadow.json'), 'utf8'));
    expect(summary.count).toBe(0);
    expect(summary.path).toMatch(/^experiments\/mcp\/upgrade\/.+\/shadow\.json$/);
    expect(new Date(summary.recorded_at).toISOString()).toBe(summary.recorded_at);
  }, 600_000);

  it('writes steps.json with every step in order, shadow.json and a report', async () => {
    const result = await upgrade();
    const steps = stepsFileSchema.parse(JSON.parse(readFileSync(join(result.artifactsDir, 'steps.json'), 'utf8')));
    expect(steps.steps.map((s) => s.name)).toEqual([
      'preflight', 'lock', 'stage', 'build', 'test', 'snapshot', 'shadow', 'schema-compat', 'tool-surface', 'summary',
    ]);
    expect(steps.steps.find((s) => s.name === 'test')?.status).toBe('skipped');
    expect((await readShadowJson(join(result.artifactsDir, 'shadow.json'))).calls.length).toBeGreaterThan(5);
    expect(readFileSync(join(result.artifactsDir, 'report.html'), 'utf8')).toContain('<html');
  }, 180_000);

  it('reports a changed ordering in plan_next with the tool and path', async () => {
    const restore = edit('worker/src/store/tasks.ts', 'ORDER BY t.priority DESC, t.id LIMIT ?', 'ORDER BY t.priority ASC, t.id LIMIT ?');
    try {
      const result = await upgrade({ allowDirty: true });
      expect(result.outcome).toBe('warnings');
      expect(result.exitCode).toBe(2);
      expect(result.finalLine).toBe('[upgrade] Completed with warnings (review noted shadow differences).');
      const shadow = await readShadowJson(result.shadow!.shadowJson);
      const reported = shadow.diffs.filter((d) => d.reported);
      expect(reported.some((d) => d.tool === 'plan_next' && d.path.startsWith('$.tasks['))).toBe(true);
      const summary = JSON.parse(readFileSync(join(stateRoot, 'analytics', 'upgrade_shadow.json'), 'utf8'));
      // count = reported answer groups + reported state differences (one logical change counts once per group).
      expect(summary.count).toBe(result.shadow!.count);
      expect(result.shadow!.count).toBe(shadow.totals.groups_reported + shadow.totals.state_reported);
    } finally {
      restore();
    }
  }, 180_000);

  it('reports a renamed field in orchestrator_status, and --ci turns the warning into exit 0', async () => {
    const restoreValue = edit('worker/src/operations/operations-manager.ts', 'blocked: byStatus.open - ready', 'blocked_tasks: byStatus.open - ready');
    const restoreType = edit('worker/src/operations/operations-manager.ts', 'readonly blocked: number;', 'readonly blocked_tasks: number;');
    const restore = () => {
      restoreType();
      restoreValue();
    };
    try {
      const result = await upgrade({ allowDirty: true, ci: true });
      expect(result.outcome).toBe('warnings');
      expect(result.exitCode).toBe(0);
      const shadow = await readShadowJson(result.shadow!.shadowJson);
      const paths = shadow.diffs.filter((d) => d.reported && d.tool === 'orchestrator_status').map((d) => d.path);
      expect(paths).toContain('$.queue.blocked');
      expect(paths).toContain('$.queue.blocked_tasks');
    } finally {
      restore();
    }
  }, 180_000);

  it('trips the schema-compat gate on a contract migration, not on an expand one', async () => {
    // The next free version, so the test keeps adding a migration as the worker gains its own.
    const next = MIGRATIONS.length + 1;
    const migration = (kind: string) => `import type { Migration } from './migration.js';
export const mExtra: Migration = {
  version: ${next},
  name: 'extra_${kind}',
  kind: '${kind}',
  up(db) {
    db.exec('CREATE TABLE extra_${kind} (id INTEGER PRIMARY KEY)');
  },
};
`;
    const file = join(ws.dir, `worker/src/store/migrations/${String(next).padStart(3, '0')}-extra.ts`);
    onTestFinished(() => rmSync(file, { force: true }));
    for (const kind of ['expand', 'contract'] as const) {
      writeFileSync(file, migration(kind));
      const restore = edit(
        'worker/src/store/migrations/index.ts',
        /export const MIGRATIONS: readonly Migration\[\] = \[(.*)\];/,
        `import { mExtra } from './${String(next).padStart(3, '0')}-extra.js';\nexport const MIGRATIONS: readonly Migration[] = [$1, mExtra];`,
      );
      try {
        const result = await upgrade({ allowDirty: true });
        const compat = result.steps.find((s) => s.name === 'schema-compat');
        expect(result.schemaCompat?.safe, `${kind}: ${JSON.stringify(compat?.detail)}`).toBe(kind === 'expand');
        expect(compat?.status).toBe(kind === 'expand' ? 'ok' : 'warning');
        // The new table is a schema addition (listed, not counted) and its ledger row is not state.
        const shadow = await readShadowJson(result.shadow!.shadowJson);
        expect(shadow.state?.databases[0]?.schema.additions.map((a) => a.name)).toContain(`extra_${kind}`);
        expect(result.shadow?.count, JSON.stringify(shadow.state?.databases.map((db) => db.groups))).toBe(0);
      } finally {
        restore();
      }
    }
  }, 300_000);

  it('fails the build step cleanly: coded error, no summary, lock released, nothing left', async () => {
    const summaryBefore = sha256(join(stateRoot, 'analytics', 'upgrade_shadow.json'));
    const restore = edit('worker/src/tools/plan-next.ts', /^/, 'const broken: number = "not a number";\n');
    try {
      const result = await upgrade({ allowDirty: true });
      expect(result.outcome).toBe('failed');
      expect(result.exitCode).toBe(1);
      expect(result.error?.code).toBe('WVO_BUILD_FAILED');
      expect(result.steps.at(-1)).toMatchObject({ name: 'build', status: 'failed' });
      expect(sha256(join(stateRoot, 'analytics', 'upgrade_shadow.json'))).toBe(summaryBefore);
      await expectCleanAfter(result);
    } finally {
      restore();
    }
  }, 180_000);

  it('fails the test step when the staged tests fail', async () => {
    const result = await upgrade({ skipTests: false, testCommand: ['node', '-e', 'console.log("1 failed"); process.exit(3)'] });
    expect(result.error?.code).toBe('WVO_TESTS_FAILED');
    expect(result.steps.at(-1)).toMatchObject({ name: 'test', status: 'failed' });
    await expectCleanAfter(result);
  }, 180_000);

  it('refuses a dirty tree without --allow-dirty', async () => {
    writeFileSync(join(ws.dir, 'scratch.txt'), 'uncommitted');
    try {
      const result = await upgrade();
      expect(result.error?.code).toBe('WVO_DIRTY_TREE');
      expect(result.steps).toHaveLength(1);
      expect(result.steps[0]).toMatchObject({ name: 'preflight', status: 'failed' });
    } finally {
      await execa('rm', [join(ws.dir, 'scratch.txt')]);
    }
  });

  it('refuses a held lock and a stale one, and leaves both in place', async () => {
    const held = acquireLock(stateRoot, { id: 'someone-else' });
    try {
      const result = await upgrade();
      expect(result.error?.code).toBe('WVO_LOCK_HELD');
      expect(existsSync(join(stateRoot, 'upgrade.lock'))).toBe(true);
    } finally {
      held.release();
    }
    const dead = await execa('node', ['-e', 'console.log(process.pid)']);
    writeFileSync(
      join(stateRoot, 'upgrade.lock'),
      JSON.stringify({ pid: Number(dead.stdout), host: (await import('node:os')).hostname(), id: 'crashed', started_at: new Date().toISOString() }),
    );
    try {
      const result = await upgrade();
      expect(result.error?.code).toBe('WVO_LOCK_STALE');
      expect(String(result.error?.hint ?? result.error?.message)).toContain('wvo unlock');
      expect(existsSync(join(stateRoot, 'upgrade.lock'))).toBe(true);
    } finally {
      await execa('rm', ['-f', join(stateRoot, 'upgrade.lock')]);
    }
  });

  it('rejects an invalid suite naming the JSON path, and a suite calling an unknown tool', async () => {
    const bad = join(ws.root, 'bad-suite.json');
    writeFileSync(bad, JSON.stringify({ calls: [{ tool: 'plan_next', arguments: 'nope' }] }));
    const invalid = await upgrade({ suite: bad });
    expect(invalid.error?.code).toBe('WVO_SUITE_INVALID');
    expect(JSON.stringify(invalid.error)).toContain('calls[0].arguments');

    const unknown = join(ws.root, 'unknown-suite.json');
    writeFileSync(unknown, JSON.stringify({ calls: [{ tool: 'no_such_tool', arguments: {} }] }));
    const result = await upgrade({ suite: unknown });
    expect(result.error?.code).toBe('WVO_SUITE_UNKNOWN_TOOL');
    await expectCleanAfter(result);
  }, 180_000);

  // A real full disk: a 256 KiB tmpfs over the workspace's tmp/ (needs root, as in CI).
  it.skipIf(process.getuid?.() !== 0)('fails cleanly when the disk fills up while staging (live state untouched)', async () => {
    const tmp = join(ws.dir, 'tmp');
    mkdirSync(tmp, { recursive: true });
    const before = liveStateChecksums();
    const summaryBefore = sha256(join(stateRoot, 'analytics', 'upgrade_shadow.json'));
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', tmp]);
    try {
      const result = await upgrade({ minFreeMb: 0 });
      expect(result.error?.code).toBe('WVO_DISK_FULL');
      expect(result.steps.at(-1)).toMatchObject({ name: 'stage', status: 'failed' });
      expect(readdirSync(tmp).filter((name) => name.startsWith('wv-upgrade-'))).toEqual([]);
      expect(existsSync(join(stateRoot, 'upgrade.lock'))).toBe(false);
    } finally {
      await execa('umount', [tmp]);
    }
    expect(liveStateChecksums()).toEqual(before);
    expect(sha256(join(stateRoot, 'analytics', 'upgrade_shadow.json'))).toBe(summaryBefore);
  }, 120_000);

  it('refuses a workspace that is not a project', async () => {
    const result = await upgrade({ workspace: ws.root });
    expect(result.error?.code).toBe('WVO_NOT_A_PROJECT');
  });

  it('gives no lane the live analytics/, runtime/ or controller.db', async () => {
    // The live state as `wvo serve` leaves it: a summary from an earlier run (a lane that saw it
    // would report it as its own .queue.shadow_diffs), local-runtime records, and the
    // controller's database open in WAL mode (so -wal/-shm exist too).
    mkdirSync(join(stateRoot, 'analytics'), { recursive: true });
    writeFileSync(
      join(stateRoot, 'analytics', 'upgrade_shadow.json'),
      JSON.stringify({ count: 4242, path: 'experiments/mcp/upgrade/earlier/shadow.json', recorded_at: new Date().toISOString() }),
    );
    mkdirSync(join(stateRoot, 'runtime', 'local'), { recursive: true });
    writeFileSync(join(stateRoot, 'runtime', 'local', 'some-lane.json'), '{}');
    const store = DeploymentStore.open(stateRoot);
    onTestFinished(() => {
      store.close();
      for (const name of [CONTROLLER_DB_FILE, `${CONTROLLER_DB_FILE}-wal`, `${CONTROLLER_DB_FILE}-shm`, 'runtime']) {
        rmSync(join(stateRoot, name), { recursive: true, force: true });
      }
    });
    expect(existsSync(join(stateRoot, `${CONTROLLER_DB_FILE}-wal`))).toBe(true);

    // What each lane's state directory holds the moment the harness starts it.
    const seen = new Map<string, string[]>();
    class SeeingRuntime extends LocalRuntime {
      override async startLane(spec: LaneSpec, options?: StartOptions): Promise<LaneInfo> {
        seen.set(spec.name, readdirSync(spec.stateDir, { recursive: true, encoding: 'utf8' }).sort());
        return super.startLane(spec, options);
      }
    }
    const options = parseUpgradeOptions({ workspace: ws.dir, skipTests: true, readyTimeoutMs: 30_000 });
    const result = await runUpgrade(options, {
      projectRoot: ws.dir,
      stateRoot,
      runtime: new SeeingRuntime({ runDir: join(ws.root, 'run') }),
      images: localImageStore(ws.dir),
    });
    expect(result.error).toBeUndefined();
    // Eight shadow lanes (five on snapshot copies, three fresh-state lanes on empty dirs) and the two schema-compat lanes.
    expect(seen.size).toBe(10);
    for (const [lane, files] of seen) {
      if (lane.includes('-fresh-')) {
        expect(files, lane).toEqual([]);
        continue;
      }
      expect(files, lane).toContain('orchestrator.db');
      const leaked = files.filter((f) => /^(analytics|runtime)(\/|$)/.test(f) || f.startsWith(CONTROLLER_DB_FILE));
      expect(leaked, lane).toEqual([]);
    }
    await expectCleanAfter(result);
  }, 180_000);

  it('keeps no stage dirs behind after all of the above', () => {
    const tmp = join(ws.dir, 'tmp');
    const stages = existsSync(tmp) ? readdirSync(tmp).filter((name) => name.startsWith('wv-upgrade-')) : [];
    expect(stages).toEqual([]);
  });
});
