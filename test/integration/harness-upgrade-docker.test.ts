import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../controller/src/config/index.js';
import { parseUpgradeOptions } from '../../controller/src/harness/options.js';
import { runUpgrade } from '../../controller/src/harness/upgrade.js';
import { DockerImageStore, dockerRuntimeFrom, type DockerRuntime } from '../../controller/src/runtime/index.js';
import { readShadowJson } from '../../controller/src/shadow/index.js';
import { seedState } from '../../worker/src/index.js';
import { describeDocker } from '../helpers/docker.js';
import { cleanupProject, testId, removeImageTag } from '../helpers/runtime-fixtures.js';
import { makeTempWorkspace, type TempWorkspace } from '../helpers/workspace.js';
import { editWorkspaceFile } from '../helpers/workspace-edit.js';

/** The same harness, lanes as containers: staged images built through the engine's API. */
describeDocker('wvo upgrade on the docker runtime', () => {
  const docker = new Docker();
  const project = testId('wvo-hd');
  const config = parseConfig({ projectName: project, images: { pull: false } });
  let ws: TempWorkspace;
  let runtime: DockerRuntime;
  let stateRoot: string;
  const runIds: string[] = [];

  beforeAll(async () => {
    ws = await makeTempWorkspace('wvo-ws-docker-');
    stateRoot = join(ws.dir, 'state');
    seedState({ stateRoot, tasks: 80, seed: 5 });
    runtime = dockerRuntimeFrom(config, { baseDir: ws.dir });
  }, 120_000);

  afterAll(async () => {
    await cleanupProject(docker, project);
    // The staged images this file's runs tagged (an image shared by tag is only untagged).
    for (const id of runIds) {
      for (const tag of [`wvo-worker:${id}`, `wvo-worker:${id}-baseline`]) await removeImageTag(docker, tag);
    }
    await runtime?.close();
    ws?.cleanup();
  });

  const edit = (file: string, from: string, to: string) => editWorkspaceFile(ws.dir, file, from, to);

  const upgrade = async (input: Record<string, unknown> = {}) => {
    const result = await runUpgrade(parseUpgradeOptions({ workspace: ws.dir, skipTests: true, ...input }), {
      projectRoot: ws.dir,
      stateRoot,
      runtime,
      images: new DockerImageStore(runtime, config.images),
    });
    runIds.push(result.id);
    return result;
  };

  it('a no-op rebuild reports 0 diffs and leaves no container behind', async () => {
    const result = await upgrade();
    expect(result.error).toBeUndefined();
    expect(result.outcome).toBe('passed');
    expect(result.candidateImage).toBe(`wvo-worker:${result.id}`);
    expect(result.shadow?.reported).toBe(0);
    // Sandboxed containers on their copies, both passes' databases diffed, the DRY_RUN copy re-hashed.
    expect(result.shadow).toMatchObject({ count: 0, answerGroups: 0, stateDifferences: 0 });
    const detail = result.steps.find((s) => s.name === 'shadow')?.detail as Record<string, unknown>;
    expect(detail).toMatchObject({ mode: 'sandbox', count: 0, dry_run_check: { copies_verified: 1 } });
    const shadow = await readShadowJson(result.shadow!.shadowJson);
    expect(shadow.state?.databases.map((db) => db.database)).toEqual(['orchestrator.db', 'fresh/orchestrator.db']);
    expect(shadow.calls.find((c) => c.name === 'verify dispatched task')?.is_error).toEqual({ baseline: false, replica: false, candidate: false });
    expect(await runtime.listLanes()).toEqual([]);
  }, 300_000);

  it('reports a behavioural change in the answers and a write-only one in the state', async () => {
    const restore = [
      edit('worker/src/store/tasks.ts', 'ORDER BY t.priority DESC, t.id LIMIT ?', 'ORDER BY t.priority ASC, t.id LIMIT ?'),
      edit('worker/src/tools/report.ts', 'setTaskStatus(context.db, task.id, status, at);', "setTaskStatus(context.db, task.id, input.outcome === 'retry' ? 'failed' : status, at);"),
    ];
    try {
      const result = await upgrade({ allowDirty: true });
      expect(result.outcome).toBe('warnings');
      const shadow = await readShadowJson(result.shadow!.shadowJson);
      expect(shadow.diffs.some((d) => d.reported && d.tool === 'plan_next')).toBe(true);
      const status = shadow.state?.databases
        .find((db) => db.database === 'orchestrator.db')
        ?.groups.find((g) => g.reported && g.table === 'tasks' && g.column === 'status');
      expect(status?.examples.some((e) => e.baseline === 'open' && e.candidate === 'failed')).toBe(true);
      expect(result.shadow?.stateDifferences).toBeGreaterThan(0);
      expect(await runtime.listLanes()).toEqual([]);
    } finally {
      for (const undo of restore) undo();
    }
  }, 300_000);

  it('fails hard when the candidate writes its state in DRY_RUN (a second SQLite connection)', async () => {
    const restore = [
      edit('worker/src/tools/plan-next.ts', "import { z } from 'zod';", "import Database from 'better-sqlite3';\nimport { z } from 'zod';"),
      edit(
        'worker/src/tools/plan-next.ts',
        'run(context, input) {',
        'run(context, input) {\n    if (context.dryRun) {\n      const leak = new Database(context.store.path);\n      leak.prepare("UPDATE settings SET updated_at = updated_at || \'!\'").run();\n      leak.close();\n    }',
      ),
    ];
    try {
      const result = await upgrade({ allowDirty: true });
      expect(result.error?.code).toBe('WVO_DRY_RUN_WROTE');
      expect(result.error?.subject).toBe(`up-${result.id}-dryrun: orchestrator.db`);
      expect(result.steps.at(-1)).toMatchObject({ name: 'shadow', status: 'failed' });
      expect(await runtime.listLanes()).toEqual([]);
    } finally {
      for (const undo of restore.reverse()) undo();
    }
  }, 300_000);

  it('names the endpoint when the engine is unreachable', async () => {
    const unreachable = parseConfig({ projectName: project, runtime: 'docker', hosts: [{ name: 'gone', docker: 'tcp://127.0.0.1:1' }], defaultHost: 'gone' });
    const dead = dockerRuntimeFrom(unreachable, { baseDir: ws.dir });
    try {
      const result = await runUpgrade(parseUpgradeOptions({ workspace: ws.dir, skipTests: true }), {
        projectRoot: ws.dir,
        stateRoot,
        runtime: dead,
        images: new DockerImageStore(dead, unreachable.images),
      });
      expect(result.error?.code).toBe('WVO_ENGINE_UNREACHABLE');
      expect(JSON.stringify(result.error)).toContain('127.0.0.1:1');
      expect(result.steps.at(-1)).toMatchObject({ name: 'preflight', status: 'failed' });
    } finally {
      await dead.close();
    }
  }, 60_000);
});
