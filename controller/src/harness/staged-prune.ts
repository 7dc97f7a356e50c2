import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { execa } from 'execa';
import type { WvoConfig } from '../config/index.js';
import { CONTROLLER_DB_FILE, DeploymentStore, isRunning, type DeploymentRecord } from '../promotion/index.js';
import { isConflict, isNotFound, isTransportError, unreachable, type DockerHost } from '../runtime/docker/engine.js';
import { DockerRuntime, RuntimeError, type LaneRuntime } from '../runtime/index.js';
import { inspectLock, lockHeldError } from './lock.js';
import type { UpgradeContext } from './upgrade.js';
import { SOURCE_HASH_LABEL, STAGED_LABEL, STAGED_PROJECT_LABEL } from './lane-images.js';
import { depsCacheKey } from './stage.js';
import {
  describeReason,
  parsePruneOptions,
  selectCaches,
  selectStaged,
  type ArtifactKind,
  type ArtifactUse,
  type Decision,
  type KeepReason,
  type PruneOptions,
  type StagedArtifact,
} from './staged-gc.js';

/** Label `lane-images.ts` puts on every image a stage became; nothing without it is ever removed. */
export { STAGED_LABEL };
/** Where local staged trees live (under the project root); nothing outside it is ever removed. */
export const STAGED_TREES_DIR = join('tmp', 'wv-images');
const CACHE_DIRS = { 'deps-cache': join('tmp', 'wv-deps'), 'build-cache': join('tmp', 'wv-build') } as const;
/** A tree being removed is first renamed to this prefix, so a crash never leaves a half tree that looks reusable. */
const PRUNING_PREFIX = '.pruning-';

export interface PruneContext {
  projectRoot: string;
  stateRoot: string;
  runtime: LaneRuntime;
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
  /** Tags (images) or the path relative to the project root (trees, caches). */
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
 * and dead caches under tmp/. Everything is decided before anything is removed, so bad input,
 * an unknown host or a silent engine remove nothing.
 */
export async function pruneStaged(options: PruneOptions, context: PruneContext): Promise<PruneReport> {
  const say = context.onProgress ?? (() => undefined);
  if (!context.holdsLock) {
    const lock = inspectLock(context.stateRoot);
    if (lock.state === 'held') throw lockHeldError(lock, 'An upgrade is building or using staged images; prune after it ends.');
  }
  const docker = context.runtime instanceof DockerRuntime ? context.runtime : undefined;
  const known = docker ? docker.hostNames() : ['local'];
  if (options.host !== undefined && !known.includes(options.host)) {
    throw new RuntimeError('WVO_HOST_UNKNOWN', `--host ${options.host}: no such host for the ${docker ? 'docker' : 'local'} runtime`, {
      subject: '--host',
      hint: docker ? `Known hosts: ${known.join(', ')} (hosts in wvo.config.json).` : 'Staged trees live on this machine (host "local"); remote hosts need the docker runtime.',
      exitCode: 2,
    });
  }
  const host = docker ? await docker.ping(options.host) : undefined;
  const hostName = host?.name ?? 'local';

  say('reading lanes and deployments');
  const { uses, laneIds } = await gatherUses(options, context);
  let staged: Decision[];
  if (host) {
    say(`listing staged images (label ${STAGED_LABEL}) on host ${hostName}`);
    // Only this project's staged images: another project's unused ones are its own to prune.
    const scope = [`${STAGED_PROJECT_LABEL}=${docker!.project}`, ...options.labels];
    staged = selectStaged(await listStagedImages(host, scope), await resolveImageUses(host, uses, laneIds), options.keep);
  } else {
    say(`listing staged trees under ${STAGED_TREES_DIR}`);
    const root = resolve(context.projectRoot, STAGED_TREES_DIR);
    const trees = await listDirs(root, 'tree');
    staged = [...selectStaged(trees.current, resolveTreeUses(root, uses, context), options.keep), ...leftovers(trees)];
  }
  let caches: Decision[] = [];
  if (options.caches && options.labels.length === 0 && (!host || host.local)) {
    const keptSources = staged
      .filter((d) => !d.remove && d.artifact.sourceHash)
      .map((d) => ({ sourceHash: d.artifact.sourceHash!, ref: displayRef(d.artifact, context.projectRoot) }));
    const workspace = context.workspace ?? context.projectRoot;
    const deps = await listDirs(resolve(context.projectRoot, CACHE_DIRS['deps-cache']), 'deps-cache');
    const builds = await listDirs(resolve(context.projectRoot, CACHE_DIRS['build-cache']), 'build-cache');
    caches = [
      ...selectCaches([...deps.current, ...builds.current], { ...(await lockHashes(workspace)), keptSources }),
      ...leftovers(deps),
      ...leftovers(builds),
    ];
  }

  const decisions = [...staged, ...caches];
  const removing = decisions.filter((d) => d.remove).length;
  say(`${decisions.length} staged images, trees and caches: ${removing} to remove, ${decisions.length - removing} kept${options.dryRun ? ' (dry run: nothing removed)' : ''}`);
  const entries: PruneEntry[] = [];
  for (const decision of decisions) {
    const entry = toEntry(decision, context.projectRoot, options.dryRun);
    if (decision.remove && !options.dryRun) {
      say(`removing ${entry.kind} ${entry.ref} (${formatBytes(entry.bytes)})`);
      const refused = decision.artifact.kind === 'image' ? await removeImage(host!, decision.artifact) : await removeTree(decision.artifact, context.projectRoot);
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
    runtime: host ? 'docker' : 'local',
    host: hostName,
    keep: options.keep,
    dryRun: options.dryRun,
    entries,
    removed: freed.length,
    kept: entries.filter((e) => e.action === 'kept').length,
    skipped: entries.filter((e) => e.action === 'skipped').length,
    bytesFreed: freed.reduce((sum, e) => sum + e.bytes, 0),
  };
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
    why: decision.remove ? 'not in use, not among the newest' : decision.reasons.map(describeReason).join('; '),
  };
}

function displayRef(artifact: StagedArtifact, projectRoot: string): string {
  if (artifact.kind === 'image') return artifact.refs.join(', ') || `<untagged> ${artifact.key.slice(7, 19)}`;
  return relative(projectRoot, artifact.key);
}

/** Lanes (running or stopped: a stopped lane is a rollback target), live deployments, config, the caller's own. */
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

/**
 * Deployments whose images may still be started: a running one (either side), or a promoted one
 * whose old lane has not been removed yet (rollback after promotion restarts its baseline).
 */
function activeDeployments(stateRoot: string): DeploymentRecord[] {
  if (!existsSync(join(stateRoot, CONTROLLER_DB_FILE))) return [];
  const store = DeploymentStore.open(stateRoot);
  try {
    return store
      .list(Number.MAX_SAFE_INTEGER)
      .filter((r) => isRunning(r.state) || (r.state === 'promoted' && !r.baselineRemoved));
  } finally {
    store.close();
  }
}

async function listStagedImages(host: DockerHost, labels: readonly string[]): Promise<StagedArtifact[]> {
  try {
    const images = await host.docker.listImages({ filters: { label: [`${STAGED_LABEL}=true`, ...labels] } });
    const out: StagedArtifact[] = [];
    for (const image of images) {
      const inspect = await host.docker.getImage(image.Id).inspect().catch((error: unknown) => {
        if (isNotFound(error)) return undefined; // removed meanwhile
        throw error;
      });
      if (!inspect) continue;
      const tagged = Date.parse((inspect as { Metadata?: { LastTagTime?: string } }).Metadata?.LastTagTime ?? '') || 0;
      const sourceHash = image.Labels?.[SOURCE_HASH_LABEL];
      out.push({
        kind: 'image',
        key: image.Id,
        refs: (image.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>').sort(),
        createdAt: Math.max(image.Created * 1000, tagged),
        bytes: image.Size,
        ...(sourceHash ? { sourceHash } : {}),
      });
    }
    return out;
  } catch (error) {
    throw isTransportError(error) ? unreachable(host, error) : error;
  }
}

/** Containers of any kind hold their image too (the engine would refuse anyway); refs resolve to ids. */
async function resolveImageUses(host: DockerHost, uses: ArtifactUse[], laneContainers: ReadonlySet<string>): Promise<ArtifactUse[]> {
  try {
    const resolved: ArtifactUse[] = [];
    for (const use of uses) {
      if (use.key || !use.ref) {
        resolved.push(use);
        continue;
      }
      const id = await host.docker
        .getImage(use.ref)
        .inspect()
        .then((i) => i.Id)
        .catch((error: unknown) => {
          if (isNotFound(error)) return undefined;
          throw error;
        });
      resolved.push({ ...use, ...(id ? { key: id } : {}) });
    }
    for (const container of await host.docker.listContainers({ all: true })) {
      if (laneContainers.has(container.Id)) continue;
      const name = container.Names?.[0]?.replace(/^\//, '') ?? container.Id.slice(0, 12);
      resolved.push({ key: container.ImageID, reason: { kind: 'container', container: name } });
    }
    return resolved;
  } catch (error) {
    throw isTransportError(error) ? unreachable(host, error) : error;
  }
}

/** Local lanes name a tree path (or a tag mapped by local.trees): the staged tree holding it is in use. */
function resolveTreeUses(root: string, uses: ArtifactUse[], context: PruneContext): ArtifactUse[] {
  const trees = context.config.local.trees;
  /** The staged tree (direct child of `root`) holding `path`, if any. */
  const ownerOf = (path: string): string | undefined => {
    const rel = relative(root, resolve(context.projectRoot, path));
    if (!rel || rel.startsWith('..') || isAbsolute(rel)) return undefined;
    return join(root, rel.split(sep)[0]!);
  };
  // As the local runtime reads an image: a path, else a tag local.trees maps to one.
  const treeOf = (ref: string): string | undefined =>
    isAbsolute(ref) || ref.startsWith('.') ? ownerOf(ref) : trees[ref] ? ownerOf(trees[ref]) : undefined;
  const out: ArtifactUse[] = [];
  for (const use of uses) {
    const key = treeOf(use.key ?? '') ?? treeOf(use.ref ?? '');
    if (key) out.push({ key, reason: use.reason });
  }
  for (const [tag, tree] of Object.entries(trees)) {
    const key = ownerOf(tree);
    if (key) out.push({ key, reason: { kind: 'config', key: `local.trees.${tag}` } });
  }
  return out;
}

interface Listed {
  current: StagedArtifact[];
  /** `.pruning-*`: left by a prune that was interrupted; renamed away already, nothing can use them. */
  interrupted: StagedArtifact[];
}

/** Direct subdirectories (never symlinks) of `root`, with their du and mtime. */
async function listDirs(root: string, kind: ArtifactKind): Promise<Listed> {
  const entries = await fs.readdir(root, { withFileTypes: true }).catch(() => []);
  const out: Listed = { current: [], interrupted: [] };
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const path = join(root, entry.name);
    const stat = await fs.lstat(path);
    const artifact = { kind, key: path, refs: [path], createdAt: stat.mtimeMs, bytes: await diskUsage(path), sourceHash: entry.name };
    (entry.name.startsWith(PRUNING_PREFIX) ? out.interrupted : out.current).push(artifact);
  }
  return out;
}

function leftovers(listed: Listed): Decision[] {
  return listed.interrupted.map((artifact) => ({ artifact, remove: true, reasons: [] }));
}

/** `du -s` in bytes: each inode once (trees and caches share files through hard links), symlinks not followed. */
export async function diskUsage(root: string): Promise<number> {
  const seen = new Set<string>();
  let bytes = 0;
  const walk = async (path: string): Promise<void> => {
    const stat = await fs.lstat(path).catch(() => undefined);
    if (!stat) return;
    const inode = `${stat.dev}:${stat.ino}`;
    if (seen.has(inode)) return;
    seen.add(inode);
    bytes += stat.blocks * 512;
    if (stat.isDirectory()) for (const name of await fs.readdir(path).catch(() => [])) await walk(join(path, name));
  };
  await walk(root);
  return bytes;
}

/** Keys of tmp/wv-deps for the workspace's lockfile and HEAD's (stage.ts's `depsCacheKey`). */
async function lockHashes(workspace: string): Promise<{ currentLockHash?: string; headLockHash?: string }> {
  const lockfile = join(workspace, 'package-lock.json');
  const current = existsSync(lockfile) ? depsCacheKey(readFileSync(lockfile)) : undefined;
  const head = await execa('git', ['show', 'HEAD:package-lock.json'], { cwd: workspace, encoding: 'buffer', stripFinalNewline: false, reject: false });
  return {
    ...(current ? { currentLockHash: current } : {}),
    ...(head.exitCode === 0 ? { headLockHash: depsCacheKey(head.stdout) } : {}),
  };
}

/**
 * Tags first (a tag another image shares is only untagged), then the id of what is left. Never
 * forced: the engine removes only untagged parents no other image needs, and an image a container
 * uses is refused, which is reported, not thrown. Returns the refusal, or undefined when gone.
 */
async function removeImage(host: DockerHost, artifact: StagedArtifact): Promise<string | undefined> {
  const attempt = async (ref: string): Promise<string | undefined> => {
    try {
      await host.docker.getImage(ref).remove();
    } catch (error) {
      if (isNotFound(error)) return undefined;
      if (isConflict(error)) return `engine refused: ${engineMessage(error)}`;
      throw isTransportError(error) ? unreachable(host, error) : error;
    }
    return undefined;
  };
  for (const tag of artifact.refs) {
    const refused = await attempt(tag);
    if (refused) return refused;
  }
  const left = await host.docker
    .getImage(artifact.key)
    .inspect()
    .then(() => true)
    .catch((error: unknown) => (isNotFound(error) ? false : Promise.reject(error)));
  return left ? attempt(artifact.key) : undefined;
}

function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: string } }).json;
  return (json?.message ?? (error as Error).message ?? String(error)).trim();
}

/** Only a direct child of tmp/wv-images, tmp/wv-deps or tmp/wv-build: renamed away first, then deleted. */
async function removeTree(artifact: StagedArtifact, projectRoot: string): Promise<string | undefined> {
  const roots = [STAGED_TREES_DIR, CACHE_DIRS['deps-cache'], CACHE_DIRS['build-cache']].map((dir) => resolve(projectRoot, dir));
  const parent = dirname(artifact.key);
  if (!roots.includes(parent)) return `refused: ${artifact.key} is not directly under ${roots.map((r) => relative(projectRoot, r)).join(', ')}`;
  const stat = await fs.lstat(artifact.key).catch(() => undefined);
  if (!stat) return undefined;
  if (!stat.isDirectory()) return `refused: ${artifact.key} is not a directory`;
  const name = basename(artifact.key);
  const doomed = name.startsWith(PRUNING_PREFIX) ? artifact.key : join(parent, `${PRUNING_PREFIX}${name}-${randomBytes(3).toString('hex')}`);
  if (doomed !== artifact.key) await fs.rename(artifact.key, doomed);
  await fs.rm(doomed, { recursive: true, force: true });
  return undefined;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(0)} kB`;
  return `${bytes} B`;
}

/** The end-of-run prune `runUpgrade` calls (config `images.keepStaged`; the run holds the lock). */
export function upgradePruner(context: Omit<PruneContext, 'holdsLock' | 'onProgress'>): NonNullable<UpgradeContext['pruneStaged']> {
  return async (protect, say) => {
    const options = parsePruneOptions({ keep: context.config.images.keepStaged, protect }, 'images.keepStaged');
    const report = await pruneStaged(options, { ...context, holdsLock: true, onProgress: say });
    return {
      removed: report.entries.filter((e) => e.action === 'removed').map((e) => `${e.kind} ${e.ref}`),
      kept: report.kept,
      skipped: report.skipped,
      bytesFreed: report.bytesFreed,
    };
  };
}
