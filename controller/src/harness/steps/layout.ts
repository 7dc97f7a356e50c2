import { join } from 'node:path';

/** The four copies of one snapshot: one per shadow lane, one for the schema-compat check. */
export interface SnapshotCopies {
  baseline: string;
  replica: string;
  candidate: string;
  compat: string;
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
      candidate: join(snapshotRoot, 'candidate'),
      compat: join(snapshotRoot, 'compat'),
    },
    laneName: (role) => `up-${id}-${role}`,
  };
}
