import { relative } from 'node:path';
import { formatBytes } from '../../../common/src/byte-format.js';
import { isWvoError } from '../../../common/src/errors.js';
import type { WvoConfig } from '../config/index.js';
import { imageStoreFor, RuntimeError, type ImageHost, type ImageStore, type LaneRuntime } from '../runtime/index.js';
import { activeDeployments } from './deployed-images.js';
import { inspectLock, lockHeldError } from './lock.js';
import { lockHashes } from './lockfile-keys.js';
import { listCaches, listStages, removeScratch, type ListedScratch } from './scratch-dirs.js';
import {
  describeReason,
  parsePruneOptions,
  selectCaches,
  selectStaged,
  selectStages,
  type ArtifactKind,
  type ArtifactUse,
  type Decision,
  type KeepReason,
  type PruneOptions,
  type StagedArtifact,
} from './staged-gc.js';
import type { UpgradeContext } from './upgrade.js';

export { formatBytes };

export interface PruneContext {
  projectRoot: string;
  stateRoot: string;
  runtime: LaneRuntime;
  /** Where the runtime's lanes get their images (default: `imageStoreFor(runtime)`, trees under the project root). */
  images?: ImageStore;
  config: WvoConfig;
  /** The workspace whose lockfile keys tmp/wv-deps (default: the project root). */
  workspace?: string;
  /** The caller holds state/upgrade.lock (the upgrade run pruning after itself). */
  holdsLock?: boolean;
  onProgress?: (line: string) => void;
}

export const PRUNE_ACTIONS = ['removed', 'would-remove', 'kept', 'skipped'] as const;
export type PruneAction = (typeof PRUNE_ACTIONS)[number];

export interface PruneEntry {
  kind: ArtifactKind;
  /** Tags (images) or the path relative to the project root (trees, caches, stages). */
  ref: string;
  /** Image id, or absolute path. */
  id: string;
  bytes: number;
  createdAt: string;
  action: PruneAction;
  reasons: KeepReason[];
  /** Why kept / skipped, in words. */
  why: string;
}

export interface PruneReport {
  runtime: 'docker' | 'local';
  host: string;
  keep: number;
  dryRun: boolean;
  entries: PruneEntry[];
  removed: number;
  kept: number;
  skipped: number;
  /** Docker: the removed images' sizes (shared base layers included); local: du of removed trees. */
  bytesFreed: number;
}

/**
 * Remove staged images (docker) or staged trees (local) nothing uses, beyond the `keep` newest,
 * dead caches and stale upgrade stages under tmp/. Everything is decided before anything is
 * removed, so bad input, an unknown host or a silent engine remove nothing.
 */
export async function pruneStaged(options: PruneOptions, context: PruneContext): Promise<PruneReport> {
  const say = context.onProgress ?? (() => undefined);
  const lock = inspectLock(context.stateRoot);
  if (!context.holdsLock && lock.state === 'held') throw lockHeldError(lock, 'An upgrade is building or using staged images; prune after it ends.');
  const store = context.images ?? imageStoreFor(context.runtime, context.config, { baseDir: context.projectRoot });
  const host = await connect(store, options.host);

  say('reading lanes and deployments');
  const { uses, laneIds } = await gatherUses(options, context);
  say(`listing ${store.describeStaged()} on host ${host.name}`);
  const images = await store.listStaged(host, { labels: options.labels });
  const current = images.filter((image) => !image.interrupted);
  const staged = [
    ...selectStaged(current, await resolveUses(store, host, uses, laneIds), options.keep),
    ...leftovers({ current, interrupted: images.filter((image) => image.interrupted) }),
  ];
  // tmp/ is on the machine images are built on; a narrowed (--label) prune leaves it alone.
  const scratch = options.labels.length === 0 && host.local;
  let caches: Decision[] = [];
  if (options.caches && scratch) {
    const keptSources = staged
      .filter((d) => !d.remove && d.artifact.sourceHash)
      .map((d) => ({ sourceHash: d.artifact.sourceHash!, ref: displayRef(d.artifact, context.projectRoot) }));
    const deps = await listCaches(context.projectRoot, 'deps-cache');
    const builds = await listCaches(context.projectRoot, 'build-cache');
    caches = [
      ...selectCaches([...deps.current, ...builds.current], { ...(await lockHashes(context.workspace ?? context.projectRoot)), keptSources }),
      ...leftovers(deps),
      ...leftovers(builds),
    ];
  }
  let stages: Decision[] = [];
  if (options.stages && scratch) {
    const listed = await listStages(context.projectRoot);
    stages = [...selectStages(listed.current, lock.state === 'held' ? lock.owner.id : undefined), ...leftovers(listed)];
  }

  const decisions = [...staged, ...caches, ...stages];
  const removing = decisions.filter((d) => d.remove).length;
  say(`${decisions.length} staged images, trees, caches and stages: ${removing} to remove, ${decisions.length - removing} kept${options.dryRun ? ' (dry run: nothing removed)' : ''}`);
  const entries: PruneEntry[] = [];
  for (const decision of decisions) {
    const entry = toEntry(decision, context.projectRoot, options.dryRun);
    if (decision.remove && !options.dryRun) {
      say(`removing ${entry.kind} ${entry.ref} (${formatBytes(entry.bytes)})`);
      const { artifact } = decision;
      const refused =
        artifact.kind === 'image' || artifact.kind === 'tree'
          ? await store.remove(host, { ...artifact, kind: artifact.kind })
          : await removeScratch(artifact, context.projectRoot);
      if (refused) {
        entry.action = 'skipped';
        entry.why = refused;
        say(`skipped ${entry.ref}: ${refused}`);
      }
    }
    entries.push(entry);
  }
  const freed = entries.filter((e) => e.action === 'removed' || e.action === 'would-remove');
  return {
    runtime: store.kind,
    host: host.name,
    keep: options.keep,
    dryRun: options.dryRun,
    entries,
    removed: freed.length,
    kept: entries.filter((e) => e.action === 'kept').length,
    skipped: entries.filter((e) => e.action === 'skipped').length,
    bytesFreed: freed.reduce((sum, e) => sum + e.bytes, 0),
  };
}

/** An unknown host is a usage error naming the flag; a silent engine is WVO_ENGINE_UNREACHABLE. */
async function connect(store: ImageStore, name: string | undefined): Promise<ImageHost> {
  try {
    return await store.connect(name);
  } catch (error) {
    if (!isWvoError(error) || error.code !== 'WVO_HOST_UNKNOWN') throw error;
    throw new RuntimeError('WVO_HOST_UNKNOWN', `--host ${name}: no such host for the ${store.kind} runtime`, {
      subject: '--host',
      hint: `Known hosts: ${store.hostNames().join(', ')}. ${error.hint ?? ''}`.trim(),
      exitCode: 2,
      cause: error,
    });
  }
}

function toEntry(decision: Decision, projectRoot: string, dryRun: boolean): PruneEntry {
  const { artifact } = decision;
  return {
    kind: artifact.kind,
    ref: displayRef(artifact, projectRoot),
    id: artifact.key,
    bytes: artifact.bytes,
    createdAt: new Date(artifact.createdAt).toISOString(),
    action: decision.remove ? (dryRun ? 'would-remove' : 'removed') : 'kept',
    reasons: decision.reasons,
    why: decision.remove ? (artifact.kind === 'stage' ? 'its upgrade is not running' : 'not in use, not among the newest') : decision.reasons.map(describeReason).join('; '),
  };
}

function displayRef(artifact: StagedArtifact, projectRoot: string): string {
  if (artifact.kind === 'image') return artifact.refs.join(', ') || `<untagged> ${artifact.key.slice(7, 19)}`;
  return relative(projectRoot, artifact.key);
}

function leftovers(listed: ListedScratch): Decision[] {
  return listed.interrupted.map((artifact) => ({ artifact, remove: true, reasons: [] }));
}

/** Lanes (running or stopped: a stopped lane is a rollback target), live deployments, the caller's own. */
async function gatherUses(options: PruneOptions, context: PruneContext): Promise<{ uses: ArtifactUse[]; laneIds: Set<string> }> {
  const uses: ArtifactUse[] = [];
  const laneIds = new Set<string>();
  for (const lane of await context.runtime.listLanes()) {
    const reason: KeepReason = { kind: 'lane', lane: lane.name, status: lane.status, host: lane.host };
    uses.push({ ...(lane.imageId ? { key: lane.imageId } : {}), ref: lane.image, reason });
    laneIds.add(lane.id);
  }
  for (const record of activeDeployments(context.stateRoot)) {
    for (const side of ['baseline', 'candidate'] as const) {
      uses.push({ ref: record.plan[side].image, reason: { kind: 'deployment', deployment: record.id, state: record.state, side } });
    }
  }
  for (const ref of options.protect) uses.push({ ref, reason: { kind: 'protected', by: 'this upgrade run' } });
  return { uses, laneIds };
}

/** Uses as the store keys its staged images (ids, owning trees), then what else holds one (containers, local.trees). */
async function resolveUses(store: ImageStore, host: ImageHost, uses: ArtifactUse[], laneIds: ReadonlySet<string>): Promise<ArtifactUse[]> {
  const resolved: ArtifactUse[] = [];
  for (const use of uses) {
    const key = await store.keyOf(host, use);
    resolved.push({ ...(use.ref === undefined ? {} : { ref: use.ref }), ...(key ? { key } : {}), reason: use.reason });
  }
  for (const holder of await store.holders(host, laneIds)) {
    const reason: KeepReason = holder.kind === 'container' ? { kind: 'container', container: holder.container } : { kind: 'config', key: holder.configKey };
    resolved.push({ key: holder.key, reason });
  }
  return resolved;
}

/** The end-of-run prune `runUpgrade` calls (config `images.keepStaged`; the run holds the lock; stages are left to `wvo images prune`). */
export function upgradePruner(context: Omit<PruneContext, 'holdsLock' | 'onProgress'>): NonNullable<UpgradeContext['pruneStaged']> {
  return async (protect, say) => {
    const options = parsePruneOptions({ keep: context.config.images.keepStaged, protect, stages: false }, 'images.keepStaged');
    const report = await pruneStaged(options, { ...context, holdsLock: true, onProgress: say });
    return {
      removed: report.entries.filter((e) => e.action === 'removed').map((e) => `${e.kind} ${e.ref}`),
      kept: report.kept,
      skipped: report.skipped,
      bytesFreed: report.bytesFreed,
    };
  };
}
