import { join } from 'node:path';

/**
 * The copies of one snapshot: one per shadow lane (a second replica for noise; `dryrun` for the
 * candidate's strict DRY_RUN check), one for the schema-compat check, and `pristine`, which no
 * lane is given: the source a copy is restored from when its lane had to be restarted.
 */
export interface SnapshotCopies {
  baseline: string;
  replica: string;
  replica2: string;
  candidate: string;
  dryrun: string;
  compat: string;
  pristine: string;
}

/** Empty state directories of the fresh-state pass (each version migrates its own from zero). */
export interface FreshDirs {
  baseline: string;
  replica: string;
  candidate: string;
}

/** Where one run keeps its files, and what its lanes are called. */
export interface RunLayout {
  /** experiments/mcp/upgrade/<id>: steps.json, shadow.json, report.html. */
  artifactsDir: string;
  stepsFile: string;
  /** tmp/: stages and the caches they share across runs. */
  tmpRoot: string;
  /** tmp/wv-upgrade-<id>: this run's stage, removed at the end unless --keep-stage. */
  stageRoot: string;
  depsCache: string;
  buildCache: string;
  snapshots: SnapshotCopies;
  /** Where the live state is fetched to when it lives on a lane host (snapshot step), before the copies. */
  liveSnapshot: string;
  fresh: FreshDirs;
  laneName(role: string): string;
}

export function runLayout(projectRoot: string, id: string): RunLayout {
  const artifactsDir = join(projectRoot, 'experiments', 'mcp', 'upgrade', id);
  const tmpRoot = join(projectRoot, 'tmp');
  const stageRoot = join(tmpRoot, `wv-upgrade-${id}`);
  const snapshotRoot = join(stageRoot, 'snapshots');
  return {
    artifactsDir,
    stepsFile: join(artifactsDir, 'steps.json'),
    tmpRoot,
    stageRoot,
    depsCache: join(tmpRoot, 'wv-deps'),
    buildCache: join(tmpRoot, 'wv-build'),
    snapshots: {
      baseline: join(snapshotRoot, 'baseline'),
      replica: join(snapshotRoot, 'replica'),
      replica2: join(snapshotRoot, 'replica2'),
      candidate: join(snapshotRoot, 'candidate'),
      dryrun: join(snapshotRoot, 'dryrun'),
      compat: join(snapshotRoot, 'compat'),
      pristine: join(snapshotRoot, 'pristine'),
    },
    liveSnapshot: join(stageRoot, 'live-snapshot'),
    fresh: {
      baseline: join(stageRoot, 'fresh', 'baseline'),
      replica: join(stageRoot, 'fresh', 'replica'),
      candidate: join(stageRoot, 'fresh', 'candidate'),
    },
    laneName: (role) => `up-${id}-${role}`,
  };
}
