import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localImageStore, type LocalImageStore } from '../../controller/src/runtime/index.js';

/** The local image store on a temp project: a "local image" is a built tree under tmp/wv-images. */
let project: string;
let store: LocalImageStore;
const trees = () => join(project, 'tmp', 'wv-images');

function builtStage(dir: string): string {
  mkdirSync(join(dir, 'dist', 'worker', 'src'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'worker', 'src', 'main.js'), '// worker\n');
  return dir;
}

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'wvo-local-images-'));
  store = localImageStore(project, { pinned: 'tmp/wv-images/pinned/sub', elsewhere: '/opt/tree' });
});
afterEach(() => rmSync(project, { recursive: true, force: true }));

describe('LocalImageStore', () => {
  it('builds a durable tree (hard links) named by source hash that outlives its stage, and reuses it for equal sources', async () => {
    const stage = builtStage(join(project, 'tmp', 'wv-upgrade-x', 'candidate'));
    const said: string[] = [];
    const tree = await store.build(stage, 'wvo-worker:x', (m) => said.push(m), 'abc123');
    expect(tree).toBe(join(trees(), 'abc123'));
    const main = join('dist', 'worker', 'src', 'main.js');
    expect(statSync(join(tree, main)).ino).toBe(statSync(join(stage, main)).ino);
    rmSync(join(project, 'tmp', 'wv-upgrade-x'), { recursive: true });
    expect(await store.exists(tree)).toBe(true);

    const again = await store.build(builtStage(join(project, 'tmp', 'wv-upgrade-y')), 'wvo-worker:y', (m) => said.push(m), 'abc123');
    expect(again).toBe(tree);
    expect(said.at(-1)).toMatch(/same sources, reused/);
    // No source hash: the tag names the tree.
    expect(await store.build(builtStage(join(project, 'stage-z')), 'wvo-worker:z', () => undefined)).toBe(join(trees(), 'wvo-worker_z'));
  });

  it('lists staged trees (an interrupted removal flagged), and keys uses by the staged tree holding them', async () => {
    builtStage(join(trees(), 'aaa'));
    builtStage(join(trees(), 'pinned', 'sub'));
    mkdirSync(join(trees(), '.pruning-old-1a2b3c'));
    const host = await store.connect();
    const listed = await store.listStaged();
    expect(listed.map((t) => [t.key, t.sourceHash, Boolean(t.interrupted)]).sort()).toEqual(
      [
        [join(trees(), '.pruning-old-1a2b3c'), '.pruning-old-1a2b3c', true],
        [join(trees(), 'aaa'), 'aaa', false],
        [join(trees(), 'pinned'), 'pinned', false],
      ].sort(),
    );
    expect(await store.keyOf(host, { key: join(trees(), 'aaa', 'dist') })).toBe(join(trees(), 'aaa'));
    expect(await store.keyOf(host, { ref: 'tmp/wv-images/aaa' })).toBeUndefined(); // neither a path (./) nor a mapped tag
    expect(await store.keyOf(host, { ref: './tmp/wv-images/aaa' })).toBe(join(trees(), 'aaa'));
    expect(await store.keyOf(host, { ref: 'pinned' })).toBe(join(trees(), 'pinned'));
    expect(await store.keyOf(host, { ref: 'elsewhere' })).toBeUndefined();
    expect(await store.holders()).toEqual([{ key: join(trees(), 'pinned'), kind: 'config', configKey: 'local.trees.pinned' }]);
  });

  it('removes only direct children of its root, renaming them away first', async () => {
    const host = await store.connect();
    const tree = builtStage(join(trees(), 'gone'));
    const image = { kind: 'tree' as const, key: tree, refs: [tree], createdAt: 0, bytes: 0 };
    expect(await store.remove(host, image)).toBeUndefined();
    expect(existsSync(tree)).toBe(false);
    const outside = builtStage(join(project, 'not-ours'));
    expect(await store.remove(host, { ...image, key: outside })).toMatch(/^refused: .* is not directly under tmp\/wv-images/);
    expect(existsSync(outside)).toBe(true);
  });

  it('has one host: transfer is a check there, any other host is WVO_HOST_UNKNOWN', async () => {
    const tree = builtStage(join(trees(), 'aaa'));
    expect(await store.transfer(tree, 'local')).toMatchObject({ imageId: tree, transferred: false, bytes: 0 });
    await expect(store.transfer(tree, 'remote-1')).rejects.toMatchObject({ code: 'WVO_HOST_UNKNOWN', exitCode: 2 });
    await expect(store.connect('remote-1')).rejects.toMatchObject({ code: 'WVO_HOST_UNKNOWN' });
    await expect(store.transfer('unmapped-tag', 'local')).rejects.toMatchObject({ code: 'WVO_IMAGE_NOT_FOUND' });
    await expect(store.transfer(join(trees(), 'missing'), 'local')).rejects.toMatchObject({ code: 'WVO_IMAGE_NOT_FOUND' });
    expect(store.hostNames()).toEqual(['local']);
  });
});
