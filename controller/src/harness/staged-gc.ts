import { z } from 'zod';
import { parseOptions } from '../../../common/src/options.js';

/**
 * What `wvo images prune` keeps and why: pure decisions on plain data (no engine, no disk), so
 * every rule is unit-tested (test/unit/staged-gc.test.ts). `staged-prune.ts` gathers the data
 * and performs the removals.
 */

/** One options type for `wvo images prune` and the prune at the end of `wvo upgrade`. */
export const pruneOptionsSchema = z.strictObject({
  /** Keep the N newest staged images/trees (in-use ones count toward N and are kept anyway). */
  keep: z.number().int().nonnegative(),
  dryRun: z.boolean().default(false),
  /** Docker host to prune (default: the local engine, where staged images are built). */
  host: z.string().min(1).optional(),
  /** Image refs / tree paths never removed (the upgrade run that is pruning passes its own). */
  protect: z.array(z.string()).default([]),
  /**
   * Docker: only staged images that also carry every one of these `key=value` labels (a narrowed
   * prune leaves caches alone: which build caches stay depends on every staged image).
   */
  labels: z.array(z.string().regex(/^[^=\s]+=\S*$/, 'key=value')).default([]),
  /** Also prune stale dependency and build caches under tmp/ (local host only). */
  caches: z.boolean().default(true),
  /**
   * Also remove tmp/wv-upgrade-* stages of runs that are not running (left by --keep-stage or a
   * crash; local host only). The end-of-run prune passes false: it keeps --keep-stage stages.
   */
  stages: z.boolean().default(true),
});
export type PruneOptions = z.output<typeof pruneOptionsSchema>;
export type PruneOptionsInput = z.input<typeof pruneOptionsSchema>;

/**
 * Validate; an error names the offending input as the caller spells it (`--keep` for the CLI,
 * `keep` elsewhere) and nothing has been removed.
 */
export function parsePruneOptions(input: unknown, source = 'options', names: Partial<Record<keyof PruneOptions, string>> = {}): PruneOptions {
  return parseOptions(pruneOptionsSchema, input, source, {
    names,
    hint: (key) => (key === 'keep' ? 'Pass a whole number ≥ 0 (0 keeps only what is in use).' : 'Fix the named option (--help).'),
  });
}

export const ARTIFACT_KINDS = ['image', 'tree', 'deps-cache', 'build-cache', 'stage'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/** A staged image (key: image id, refs: its tags) or a staged tree (key and ref: its path). */
export interface StagedArtifact {
  kind: ArtifactKind;
  key: string;
  refs: string[];
  /** ms; for images the later of creation and last tagging (a reused image is as new as its reuse). */
  createdAt: number;
  bytes: number;
  /** The `wvo.source-hash` label / the tree's name: links build caches to it. */
  sourceHash?: string;
  /** Stages: the upgrade run that made it (tmp/wv-upgrade-<run>). */
  run?: string;
}

export const KEEP_REASON_KINDS = [
  'lane',
  'container',
  'deployment',
  'protected',
  'config',
  'newest',
  'current-lockfile',
  'head-lockfile',
  'staged-source',
  'newest-cache',
  'running',
] as const;
export type KeepReasonKind = (typeof KEEP_REASON_KINDS)[number];

export type KeepReason =
  | { kind: 'lane'; lane: string; status: string; host: string }
  | { kind: 'container'; container: string }
  | { kind: 'deployment'; deployment: string; state: string; side: 'baseline' | 'candidate' }
  | { kind: 'protected'; by: string }
  | { kind: 'config'; key: string }
  | { kind: 'newest'; rank: number; keep: number }
  | { kind: 'current-lockfile' }
  | { kind: 'head-lockfile' }
  | { kind: 'staged-source'; ref: string }
  | { kind: 'newest-cache' }
  | { kind: 'running'; run: string };

/** Something that holds an artifact: matched by key (image id, tree path) or by one of its refs (tag). */
export interface ArtifactUse {
  key?: string;
  ref?: string;
  reason: KeepReason;
}

export interface Decision {
  artifact: StagedArtifact;
  remove: boolean;
  /** Why it is kept (empty when removed). */
  reasons: KeepReason[];
}

export function describeReason(reason: KeepReason): string {
  switch (reason.kind) {
    case 'lane':
      return `in use by lane ${reason.lane} (${reason.status}${reason.host === 'local' ? '' : ` on ${reason.host}`})`;
    case 'container':
      return `in use by container ${reason.container}`;
    case 'deployment':
      return `${reason.side} of deployment ${reason.deployment} (${reason.state})`;
    case 'protected':
      return `in use by ${reason.by}`;
    case 'config':
      return `named by ${reason.key} in wvo.config.json`;
    case 'newest':
      return `newest ${reason.keep} (#${reason.rank})`;
    case 'current-lockfile':
      return "the workspace's current lockfile";
    case 'head-lockfile':
      return "HEAD's lockfile (baseline builds)";
    case 'staged-source':
      return `sources of kept ${reason.ref}`;
    case 'newest-cache':
      return 'newest cache of its kind';
    case 'running':
      return `stage of upgrade ${reason.run}, which holds the upgrade lock`;
  }
}

const newestFirst = (a: { createdAt: number; key: string }, b: { createdAt: number; key: string }) =>
  b.createdAt - a.createdAt || a.key.localeCompare(b.key);

/**
 * Staged images or trees: each one any use holds is kept (every reason listed), and so are the
 * `keep` newest (ranked over all staged ones, in use or not); the rest are removed.
 */
export function selectStaged(artifacts: readonly StagedArtifact[], uses: readonly ArtifactUse[], keep: number): Decision[] {
  return [...artifacts].sort(newestFirst).map((artifact, index) => {
    const reasons = uses
      .filter((use) => (use.key !== undefined && use.key === artifact.key) || (use.ref !== undefined && artifact.refs.includes(use.ref)))
      .map((use) => use.reason);
    const unique = reasons.filter((reason, i) => reasons.findIndex((r) => JSON.stringify(r) === JSON.stringify(reason)) === i);
    if (index < keep) unique.push({ kind: 'newest', rank: index + 1, keep });
    return { artifact, remove: unique.length === 0, reasons: unique };
  });
}

export interface CacheFacts {
  /** Hash key (tmp/wv-deps/<key>) of the workspace's package-lock.json, if it has one. */
  currentLockHash?: string;
  /** Hash key of HEAD's package-lock.json (a baseline staged from git uses it). */
  headLockHash?: string;
  /** Staged images/trees kept by this prune: their source hashes keep their build caches. */
  keptSources: ReadonlyArray<{ sourceHash: string; ref: string }>;
}

/**
 * Caches under tmp/. `wv-deps/<lockfile hash>` is read only for the lockfile being staged: keep the
 * workspace's and HEAD's (a baseline staged from git) and the newest; an older lockfile's is dead.
 * `wv-build/<source hash>` is reused only for identical sources: keep those of staged
 * images/trees that stay (a rebuilt baseline of the same sources) and the newest; others are dead.
 */
export function selectCaches(caches: readonly StagedArtifact[], facts: CacheFacts): Decision[] {
  const newestOf = new Map<ArtifactKind, string>();
  for (const cache of [...caches].sort(newestFirst)) if (!newestOf.has(cache.kind)) newestOf.set(cache.kind, cache.key);
  return [...caches].sort(newestFirst).map((artifact) => {
    const reasons: KeepReason[] = [];
    const hash = artifact.sourceHash;
    if (artifact.kind === 'deps-cache') {
      if (hash !== undefined && hash === facts.currentLockHash) reasons.push({ kind: 'current-lockfile' });
      if (hash !== undefined && hash === facts.headLockHash && hash !== facts.currentLockHash) reasons.push({ kind: 'head-lockfile' });
    }
    if (artifact.kind === 'build-cache') {
      for (const kept of facts.keptSources) if (kept.sourceHash === hash) reasons.push({ kind: 'staged-source', ref: kept.ref });
    }
    if (newestOf.get(artifact.kind) === artifact.key) reasons.push({ kind: 'newest-cache' });
    return { artifact, remove: reasons.length === 0, reasons };
  });
}

/**
 * Upgrade stages (tmp/wv-upgrade-<run>): scratch of one run, useless once it ended. Keep only the
 * stage of the run holding the upgrade lock (`runningRun`: the lock's owner while its pid lives).
 */
export function selectStages(stages: readonly StagedArtifact[], runningRun: string | undefined): Decision[] {
  return [...stages].sort(newestFirst).map((artifact) => {
    const reasons: KeepReason[] = runningRun !== undefined && artifact.run === runningRun ? [{ kind: 'running', run: runningRun }] : [];
    return { artifact, remove: reasons.length === 0, reasons };
  });
}
