import { join, resolve } from 'node:path';
import { listDisposableDirs, removeDisposableDir, type DisposableDir } from '../../../common/src/disposable-dirs.js';
import type { ArtifactKind, StagedArtifact } from './staged-gc.js';

/**
 * The harness's scratch under <project>/tmp: dependency and build caches (kept across runs,
 * keyed by hash) and upgrade stages (one run's copy of the workspace and its state snapshots).
 * `runUpgrade` names the stage `tmp/wv-upgrade-<run id>`.
 */
export const CACHE_DIRS = { 'deps-cache': join('tmp', 'wv-deps'), 'build-cache': join('tmp', 'wv-build') } as const;
export const STAGE_PREFIX = 'wv-upgrade-';

export interface ListedScratch {
  current: StagedArtifact[];
  /** `.pruning-*`: an interrupted prune's leftovers; nothing can use them. */
  interrupted: StagedArtifact[];
}

function split(dirs: DisposableDir[], kind: ArtifactKind, extra: (dir: DisposableDir) => Partial<StagedArtifact>): ListedScratch {
  const out: ListedScratch = { current: [], interrupted: [] };
  for (const dir of dirs) {
    const artifact: StagedArtifact = { kind, key: dir.path, refs: [dir.path], createdAt: dir.mtimeMs, bytes: dir.bytes, ...extra(dir) };
    (dir.interrupted ? out.interrupted : out.current).push(artifact);
  }
  return out;
}

/** tmp/wv-deps/<lockfile hash> and tmp/wv-build/<source hash>; the name is the hash. */
export async function listCaches(projectRoot: string, kind: keyof typeof CACHE_DIRS): Promise<ListedScratch> {
  return split(await listDisposableDirs(resolve(projectRoot, CACHE_DIRS[kind])), kind, (dir) => ({ sourceHash: dir.name }));
}

/** tmp/wv-upgrade-<run>: left by --keep-stage or a run that died before its cleanup. */
export async function listStages(projectRoot: string): Promise<ListedScratch> {
  return split(await listDisposableDirs(resolve(projectRoot, 'tmp'), STAGE_PREFIX), 'stage', (dir) => ({ run: dir.name.slice(STAGE_PREFIX.length) }));
}

/** Only a direct child of tmp/ (stages) or of a cache directory: renamed away first, then deleted. */
export function removeScratch(artifact: StagedArtifact, projectRoot: string): Promise<string | undefined> {
  const parents = artifact.kind === 'stage' ? ['tmp'] : [CACHE_DIRS['deps-cache'], CACHE_DIRS['build-cache']];
  return removeDisposableDir(artifact.key, parents.map((dir) => resolve(projectRoot, dir)), projectRoot);
}
