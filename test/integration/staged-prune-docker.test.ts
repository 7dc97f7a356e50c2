import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runWvoCli, type CliRun } from '../helpers/cli.js';
import { DockerRuntime } from '../../controller/src/runtime/docker/docker-runtime.js';
import { buildImages } from '../../controller/src/runtime/images/image-build.js';
import { describeDocker } from '../helpers/docker.js';
import { cleanupProject, makeFakeWorkerTree, testId } from '../helpers/runtime-fixtures.js';
import { recordDeployment } from '../helpers/staged-deployments.js';

/**
 * `wvo images prune` against the real engine, through the built CLI. Staged images are one LABEL
 * step on the fake-worker image (cheap, distinct ids, a tagged parent so removal prunes nothing
 * another test builds on). The prune is narrowed with `--label wvo.test=<id>` so it never touches
 * staged images of test files running at the same time.
 */
const docker = new Docker();
const id = testId('gc-docker');
const TEST_LABEL = `wvo.test=${id}`;
const repo = 'wvo-gc-test';
const fakeBase = `wvo-fake-worker:${id}`;
const tag = (name: string) => `${repo}:${id}-${name}`;

let work: string;
let fakeTree: string;
let runtime: DockerRuntime;

/** A child of the fake image carrying `labels` (one LABEL step). */
async function labelledImage(name: string, labels: Record<string, string>): Promise<string> {
  const dir = mkdtempSync(join(work, 'ctx-'));
  const pairs = Object.entries({ ...labels, 'wvo.test': id, 'wvo.test-name': name }).map(([k, v]) => `${k}="${v}"`);
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${fakeBase}\nLABEL ${pairs.join(' ')}\n`);
  await execa('tar', ['-cf', join(dir, 'ctx.tar'), '-C', dir, 'Dockerfile']);
  const stream = await docker.buildImage(join(dir, 'ctx.tar'), { t: tag(name), rm: true });
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null, out: Array<{ error?: string }>) => {
      const failed = error ?? (out.find((o) => o.error) ? new Error(out.find((o) => o.error)!.error) : null);
      return failed ? reject(failed) : resolve();
    }),
  );
  return (await docker.getImage(tag(name)).inspect()).Id;
}

const staged = (name: string, project = id) =>
  labelledImage(name, { 'wvo.staged': 'true', 'wvo.staged-project': project, 'wvo.source-hash': `${name}${'0'.repeat(16)}`.slice(0, 16) });

async function exists(ref: string): Promise<boolean> {
  return docker
    .getImage(ref)
    .inspect()
    .then(() => true)
    .catch(() => false);
}

function prune(args: string[]): Promise<CliRun> {
  return runWvoCli(['images', 'prune', '--runtime', 'docker', ...args], { cwd: work });
}

const ids: Record<string, string> = {};

describeDocker('wvo images prune (docker)', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'wvo-gc-docker-'));
    writeFileSync(join(work, 'wvo.config.json'), JSON.stringify({ projectName: id, stateRoot: './state', images: { keepStaged: 5 } }));
    fakeTree = makeFakeWorkerTree();
    await buildImages(docker, {
      root: fakeTree,
      tag: id,
      nodeImage: 'node:20-bookworm-slim',
      pull: false,
      baseImage: 'wvo-node-base',
      kinds: ['worker'],
      repositories: { worker: 'wvo-fake-worker', controller: 'unused' },
    });
    runtime = new DockerRuntime({ project: id, readyTimeoutMs: 20_000, stopTimeoutMs: 5_000 });
    // Oldest first: what nothing uses, then the lane's, then the deployments' (newest: least likely
    // to fall to a concurrent upgrade test's own end-of-run prune before ours runs).
    ids.oldA = await staged('old-a');
    ids.oldB = await staged('old-b');
    ids.rolledBack = await staged('rolled-back');
    ids.retired = await staged('retired');
    ids.plain = await labelledImage('plain', {}); // not staged: never removed
    ids.otherProject = await staged('other-project', `${id}-other`); // another project's: its own to prune
    ids.container = await staged('container');
    ids.lane = await staged('lane');
    ids.promoted = await staged('promoted');
    ids.baseline = await staged('baseline');
    ids.candidate = await staged('candidate');
    // A reused image carries a second tag; the deployment names that one.
    await docker.getImage(tag('candidate')).tag({ repo, tag: `${id}-candidate-reused` });

    // A plain container (not a lane) holds its image.
    // (Labelled for teardown, not with wvo.project: that would make it one of the project's lanes.)
    await docker.createContainer({ Image: tag('container'), name: `${id}-holder`, Labels: { 'wvo.test': id }, Cmd: ['serve'] });

    // A lane, stopped (kept for rollback), whose label names a tag that has moved away since:
    // only the container's image id still points at its image.
    const state = join(work, 'lane-state');
    mkdirSync(state, { recursive: true });
    await runtime.startLane({ name: 'blue', image: tag('lane'), stateDir: state, role: 'live' });
    await runtime.stopLane('blue');
    await docker.getImage(tag('lane')).tag({ repo, tag: `${id}-lane-moved` });
    await docker.getImage(tag('lane')).remove({ noprune: true });

    const stateRoot = join(work, 'state');
    recordDeployment(stateRoot, 'dep-retired', tag('retired'), tag('retired'), 'retired');
    recordDeployment(stateRoot, 'dep-rolled-back', tag('rolled-back'), tag('rolled-back'), 'rolled_back');
    recordDeployment(stateRoot, 'dep-promoted', tag('promoted'), tag('old-b'), 'promoted');
    recordDeployment(stateRoot, 'dep-running', tag('baseline'), `${repo}:${id}-candidate-reused`, 'shadowed');
  });

  afterAll(async () => {
    await cleanupProject(docker, id);
    for (const c of await docker.listContainers({ all: true, filters: { label: [TEST_LABEL] } }).catch(() => [])) {
      await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
    for (const image of await docker.listImages({ filters: { label: [TEST_LABEL] } }).catch(() => [])) {
      for (const t of image.RepoTags ?? []) if (t !== '<none>:<none>') await docker.getImage(t).remove({ noprune: true }).catch(() => undefined);
      await docker.getImage(image.Id).remove({ noprune: true }).catch(() => undefined);
    }
    await docker.getImage(fakeBase).remove({ noprune: true }).catch(() => undefined);
    if (fakeTree) rmSync(fakeTree, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('bad input removes nothing and names the flag', async () => {
    const negative = await prune(['--keep', '-1', '--label', TEST_LABEL, '--json']);
    expect(negative.code).toBe(2);
    expect(JSON.parse(negative.stdout).error).toMatchObject({ code: 'WVO_OPTIONS_INVALID', subject: '--keep' });
    const host = await prune(['--keep', '0', '--host', 'nowhere', '--label', TEST_LABEL]);
    expect(host.code).toBe(2);
    expect(host.stderr).toContain('WVO_HOST_UNKNOWN');
    expect(host.stderr).toContain('[--host]');
    for (const ref of Object.values(ids)) expect(await exists(ref)).toBe(true);
  });

  it('--dry-run says what would go and removes nothing', async () => {
    const out = await prune(['--keep', '0', '--label', TEST_LABEL, '--dry-run', '--json']);
    expect(out.code, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout);
    const would = report.entries.filter((e: { action: string }) => e.action === 'would-remove').map((e: { id: string }) => e.id).sort();
    expect(would).toEqual([ids.oldA, ids.rolledBack, ids.retired].sort());
    for (const ref of Object.values(ids)) expect(await exists(ref)).toBe(true);
  });

  it('--keep 0 removes exactly the staged images no lane, container or live deployment uses', async () => {
    const out = await prune(['--keep', '0', '--label', TEST_LABEL, '--json']);
    expect(out.code, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout);
    expect(report).toMatchObject({ ok: true, runtime: 'docker', host: 'local', keep: 0, dryRun: false, removed: 3, skipped: 0 });
    const byId = Object.fromEntries(report.entries.map((e: { id: string; action: string; why: string }) => [e.id, `${e.action}: ${e.why}`]));
    expect(byId).toEqual({
      [ids.oldA!]: 'removed: not in use, not among the newest',
      [ids.rolledBack!]: 'removed: not in use, not among the newest',
      [ids.retired!]: 'removed: not in use, not among the newest',
      [ids.oldB!]: 'kept: candidate of deployment dep-promoted (promoted)',
      [ids.promoted!]: 'kept: baseline of deployment dep-promoted (promoted)',
      [ids.container!]: `kept: in use by container ${id}-holder`,
      [ids.lane!]: 'kept: in use by lane blue (stopped)',
      [ids.baseline!]: 'kept: baseline of deployment dep-running (shadowed)',
      [ids.candidate!]: 'kept: candidate of deployment dep-running (shadowed)',
    });
    expect(report.bytesFreed).toBeGreaterThan(0);
    for (const gone of [ids.oldA, ids.rolledBack, ids.retired]) expect(await exists(gone!)).toBe(false);
    for (const kept of [ids.oldB, ids.promoted, ids.container, ids.lane, ids.baseline, ids.candidate, ids.plain, ids.otherProject]) expect(await exists(kept!)).toBe(true);
    // Both tags of the reused candidate survive; the fake base (their parent) too.
    expect(await exists(tag('candidate'))).toBe(true);
    expect(await exists(`${repo}:${id}-candidate-reused`)).toBe(true);
    expect(await exists(fakeBase)).toBe(true);
    // The stopped lane can still be started for a rollback.
    expect((await runtime.getLane('blue'))?.status).toBe('stopped');
  });

  it('prints a table with why each image stays, and progress on stderr', async () => {
    const out = await prune(['--keep', '1', '--label', TEST_LABEL]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^ACTION\s+KIND\s+REF\s+SIZE\s+WHY/m);
    expect(out.stdout).toMatch(/kept\s+image\s+.*-candidate, .*-candidate-reused\s.*candidate of deployment dep-running \(shadowed\)/);
    // Re-tagging counts as new (a reused image is as recent as its reuse): the lane's moved tag is newest.
    expect(out.stdout).toMatch(/kept\s+image\s+.*-lane-moved\s.*in use by lane blue \(stopped\); newest 1 \(#1\)/);
    expect(out.stdout).toMatch(/0 removed, 6 kept, 0 skipped; freed 0 B/);
    expect(out.stderr).toContain('[prune] listing staged images');
  });
});
