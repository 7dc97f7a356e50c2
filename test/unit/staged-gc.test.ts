import { describe, expect, it } from 'vitest';
import { isWvoError } from '../../common/src/errors.js';
import { parseConfig } from '../../controller/src/config/index.js';
import {
  describeReason,
  parsePruneOptions,
  selectCaches,
  selectStaged,
  selectStages,
  type ArtifactUse,
  type StagedArtifact,
} from '../../controller/src/harness/staged-gc.js';

/** Staged images a..e, e newest; each carries one tag (c also a second one, as a reused image does). */
const image = (name: string, createdAt: number, extra: Partial<StagedArtifact> = {}): StagedArtifact => ({
  kind: 'image',
  key: `sha256:${name}`,
  refs: [`wvo-worker:${name}`],
  createdAt,
  bytes: 100,
  ...extra,
});
const images = [
  image('a', 1000),
  image('b', 2000),
  image('c', 3000, { refs: ['wvo-worker:c', 'wvo-worker:c2'] }),
  image('d', 4000),
  image('e', 5000),
];

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('images.keepStaged (config)', () => {
  it('defaults to 5 and takes 0', () => {
    expect(parseConfig({}).images.keepStaged).toBe(5);
    expect(parseConfig({ images: { keepStaged: 0 } }).images.keepStaged).toBe(0);
  });

  it('refuses a negative or fractional value, naming the JSON path', () => {
    for (const keepStaged of [-1, 1.5]) {
      const error = thrown(() => parseConfig({ images: { keepStaged } }));
      expect(isWvoError(error) && error.code).toBe('WVO_CONFIG_INVALID');
      expect(isWvoError(error) && error.subject).toBe('images.keepStaged');
    }
  });
});

describe('parsePruneOptions', () => {
  it('fills defaults', () => {
    expect(parsePruneOptions({ keep: 3 })).toEqual({ keep: 3, dryRun: false, protect: [], labels: [], caches: true, stages: true });
  });

  it('a negative --keep is a usage error naming the flag', () => {
    const error = thrown(() => parsePruneOptions({ keep: -1 }, 'wvo images prune', { keep: '--keep' }));
    expect(isWvoError(error) && { code: error.code, subject: error.subject, exit: error.exitCode }).toEqual({ code: 'WVO_OPTIONS_INVALID', subject: '--keep', exit: 2 });
    const text = thrown(() => parsePruneOptions({ keep: 'many' }, 'wvo images prune', { keep: '--keep' }));
    expect(isWvoError(text) && text.subject).toBe('--keep');
  });
});

describe('selectStaged', () => {
  const kept = (decisions: ReturnType<typeof selectStaged>) => decisions.filter((d) => !d.remove).map((d) => d.artifact.key.slice(7));
  const removed = (decisions: ReturnType<typeof selectStaged>) => decisions.filter((d) => d.remove).map((d) => d.artifact.key.slice(7));

  it('keeps the N newest and removes the rest, newest first', () => {
    const decisions = selectStaged(images, [], 2);
    expect(kept(decisions)).toEqual(['e', 'd']);
    expect(removed(decisions)).toEqual(['c', 'b', 'a']);
    expect(decisions[1]!.reasons).toEqual([{ kind: 'newest', rank: 2, keep: 2 }]);
  });

  it('keep 0 keeps only what is in use: a stopped lane by image id, a deployment by a second tag, the run itself', () => {
    const uses: ArtifactUse[] = [
      // A lane's label may name a tag that moved since: the container's image id decides.
      { key: 'sha256:a', ref: 'wvo-worker:moved', reason: { kind: 'lane', lane: 'blue', status: 'stopped', host: 'local' } },
      { ref: 'wvo-worker:c2', reason: { kind: 'deployment', deployment: 'dep-1', state: 'promoted', side: 'baseline' } },
      { ref: 'wvo-worker:e', reason: { kind: 'protected', by: 'this upgrade run' } },
    ];
    const decisions = selectStaged(images, uses, 0);
    expect(kept(decisions)).toEqual(['e', 'c', 'a']);
    expect(removed(decisions)).toEqual(['d', 'b']);
    expect(decisions.find((d) => d.artifact.key === 'sha256:a')!.reasons.map(describeReason)).toEqual(['in use by lane blue (stopped)']);
    expect(decisions.find((d) => d.artifact.key === 'sha256:c')!.reasons.map(describeReason)).toEqual(['baseline of deployment dep-1 (promoted)']);
  });

  it('in-use images count toward the newest N and list every reason once', () => {
    const lane = { kind: 'lane', lane: 'green', status: 'ready', host: 'local' } as const;
    const uses: ArtifactUse[] = [
      { key: 'sha256:e', reason: lane },
      { ref: 'wvo-worker:e', reason: lane },
      { key: 'sha256:e', reason: { kind: 'deployment', deployment: 'dep-2', state: 'observing', side: 'candidate' } },
    ];
    const decisions = selectStaged(images, uses, 2);
    expect(kept(decisions)).toEqual(['e', 'd']);
    expect(decisions[0]!.reasons.map((r) => r.kind)).toEqual(['lane', 'deployment', 'newest']);
  });

  it('a use matching nothing staged keeps nothing (and never adds an artifact)', () => {
    const decisions = selectStaged(images, [{ ref: 'wvo-worker:dev', reason: { kind: 'container', container: 'x' } }], 0);
    expect(kept(decisions)).toEqual([]);
    expect(decisions).toHaveLength(5);
  });

  it('orders equal times by key, so the choice is stable', () => {
    const same = [image('y', 10), image('x', 10)];
    expect(kept(selectStaged(same, [], 1))).toEqual(['x']);
  });
});

describe('selectCaches', () => {
  const cache = (kind: 'deps-cache' | 'build-cache', hash: string, createdAt: number): StagedArtifact => ({
    kind,
    key: `/p/tmp/${kind === 'deps-cache' ? 'wv-deps' : 'wv-build'}/${hash}`,
    refs: [],
    createdAt,
    bytes: 10,
    sourceHash: hash,
  });

  it("keeps the workspace's and HEAD's lockfile and the newest dependency cache; removes older lockfiles'", () => {
    const decisions = selectCaches([cache('deps-cache', 'old', 1), cache('deps-cache', 'head', 2), cache('deps-cache', 'cur', 3), cache('deps-cache', 'newer', 4)], {
      currentLockHash: 'cur',
      headLockHash: 'head',
      keptSources: [],
    });
    const byHash = Object.fromEntries(decisions.map((d) => [d.artifact.sourceHash, d.remove ? 'remove' : d.reasons.map((r) => r.kind).join(',')]));
    expect(byHash).toEqual({ old: 'remove', head: 'head-lockfile', cur: 'current-lockfile', newer: 'newest-cache' });
  });

  it('keeps build caches of staged images that stay, and the newest; removes the rest', () => {
    const decisions = selectCaches([cache('build-cache', 's1', 1), cache('build-cache', 's2', 2), cache('build-cache', 's3', 3)], {
      keptSources: [{ sourceHash: 's1', ref: 'wvo-worker:live' }],
    });
    expect(decisions.filter((d) => d.remove).map((d) => d.artifact.sourceHash)).toEqual(['s2']);
    expect(decisions.find((d) => d.artifact.sourceHash === 's1')!.reasons.map(describeReason)).toEqual(['sources of kept wvo-worker:live']);
  });

  it('with no lockfile known, only the newest dependency cache stays', () => {
    const decisions = selectCaches([cache('deps-cache', 'a', 1), cache('deps-cache', 'b', 2)], { keptSources: [] });
    expect(decisions.map((d) => d.remove)).toEqual([false, true]);
  });
});

describe('upgrade stages (tmp/wv-upgrade-<run>)', () => {
  const stage = (run: string, createdAt: number): StagedArtifact => ({ kind: 'stage', key: `/p/tmp/wv-upgrade-${run}`, refs: [], createdAt, bytes: 10, run });

  it('removes every stage but the one of the run holding the lock, however new', () => {
    const decisions = selectStages([stage('old', 1), stage('running', 2), stage('newest', 3)], 'running');
    expect(decisions.map((d) => [d.artifact.run, d.remove])).toEqual([
      ['newest', true],
      ['running', false],
      ['old', true],
    ]);
    expect(decisions.find((d) => !d.remove)!.reasons.map(describeReason)).toEqual(['stage of upgrade running, which holds the upgrade lock']);
  });

  it('with no run holding the lock, every stage is stale', () => {
    expect(selectStages([stage('a', 1), stage('b', 2)], undefined).every((d) => d.remove && d.reasons.length === 0)).toBe(true);
  });

  it('stages are pruned unless the caller says not to (the end-of-run prune keeps --keep-stage stages)', () => {
    expect(parsePruneOptions({ keep: 1 }).stages).toBe(true);
    expect(parsePruneOptions({ keep: 1, stages: false }).stages).toBe(false);
  });
});
