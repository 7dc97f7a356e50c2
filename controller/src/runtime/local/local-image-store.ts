import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { execa } from 'execa';
import { listDisposableDirs, removeDisposableDir } from '../../../../common/src/disposable-dirs.js';
import { RuntimeError } from '../errors.js';
import type { ImageHolder, ImageHost, ImageStore, StagedImage } from '../image-store.js';
import type { TransferResult } from '../lane-runtime.js';
import { LOCAL_HOST_NAME } from './local-runtime.js';

/** Where local images live, under the project root: a "local image" is a built tree there. */
export const LOCAL_IMAGES_DIR = join('tmp', 'wv-images');
const WORKER_MAIN = join('dist', 'worker', 'src', 'main.js');

export interface LocalImageStoreOptions {
  /** The trees' directory (e.g. `<project>/tmp/wv-images`); nothing outside it is ever removed. */
  root: string;
  /** Project root: relative image paths and `trees` resolve against it. */
  projectRoot: string;
  /** local.trees of wvo.config.json (tag → tree): trees named there are held by config. */
  trees?: Record<string, string>;
}

/**
 * Local lanes run built trees. A stage is kept as a durable tree under `root` (hard links, named
 * by source hash so equal sources share one), which a later `wvo promote` can still start after
 * the harness deleted its stage.
 */
/** The store for a project: trees under `<projectRoot>/tmp/wv-images`. */
export function localImageStore(projectRoot: string, trees: Record<string, string> = {}): LocalImageStore {
  return new LocalImageStore({ root: join(projectRoot, LOCAL_IMAGES_DIR), projectRoot, trees });
}

export class LocalImageStore implements ImageStore {
  readonly kind = 'local' as const;
  private readonly root: string;

  constructor(private readonly options: LocalImageStoreOptions) {
    this.root = resolve(options.root);
  }

  async build(stageDir: string, tag: string, onProgress: (message: string) => void, sourceHash?: string): Promise<string> {
    const tree = join(this.root, sourceHash ?? tag.replace(/[^\w.-]/g, '_'));
    if (await this.exists(tree)) {
      onProgress(`tree ${tree}: same sources, reused`);
      return tree;
    }
    rmSync(tree, { recursive: true, force: true });
    mkdirSync(dirname(tree), { recursive: true });
    await execa('cp', ['-al', resolve(stageDir), tree]);
    onProgress(`tree ${tree}`);
    return tree;
  }

  async exists(ref: string): Promise<boolean> {
    return existsSync(join(ref, WORKER_MAIN));
  }

  hostNames(): string[] {
    return [LOCAL_HOST_NAME];
  }

  async connect(host?: string): Promise<ImageHost> {
    if (host !== undefined && host !== LOCAL_HOST_NAME) {
      throw new RuntimeError('WVO_HOST_UNKNOWN', `the local runtime keeps trees only on "${LOCAL_HOST_NAME}", not "${host}"`, {
        subject: host,
        hint: 'Remote hosts need the docker runtime (runtime: "docker" in wvo.config.json).',
        exitCode: 2,
      });
    }
    return { name: LOCAL_HOST_NAME, local: true };
  }

  describeStaged(): string {
    return `staged trees under ${relative(this.options.projectRoot, this.root) || this.root}`;
  }

  async listStaged(): Promise<StagedImage[]> {
    return (await listDisposableDirs(this.root)).map((dir) => ({
      kind: 'tree',
      key: dir.path,
      refs: [dir.path],
      createdAt: dir.mtimeMs,
      bytes: dir.bytes,
      sourceHash: dir.name,
      ...(dir.interrupted ? { interrupted: true } : {}),
    }));
  }

  /** As the local runtime reads an image: a path, else a tag local.trees maps to one; then the staged tree holding it. */
  async keyOf(_host: ImageHost, use: { key?: string; ref?: string }): Promise<string | undefined> {
    return this.treeOf(use.key ?? '') ?? this.treeOf(use.ref ?? '');
  }

  async holders(): Promise<ImageHolder[]> {
    const out: ImageHolder[] = [];
    for (const [tag, tree] of Object.entries(this.options.trees ?? {})) {
      const key = this.ownerOf(tree);
      if (key) out.push({ key, kind: 'config', configKey: `local.trees.${tag}` });
    }
    return out;
  }

  /** Only a direct child of the root: renamed away first, then deleted. */
  async remove(_host: ImageHost, image: StagedImage): Promise<string | undefined> {
    return removeDisposableDir(image.key, [this.root], this.options.projectRoot);
  }

  /** One machine: a tree is where it is; only the local host is valid. */
  async transfer(ref: string, host: string): Promise<TransferResult> {
    await this.connect(host);
    const mapped = isAbsolute(ref) || ref.startsWith('.') ? ref : this.options.trees?.[ref];
    const tree = mapped === undefined ? undefined : resolve(this.options.projectRoot, mapped);
    if (!tree || !(await this.exists(tree))) {
      throw new RuntimeError('WVO_IMAGE_NOT_FOUND', tree ? `${ref}: no built worker at ${join(tree, WORKER_MAIN)}` : `image ${ref} maps to no built tree`, {
        subject: ref,
        hint: tree ? 'Build the tree first (wvo upgrade keeps one under tmp/wv-images).' : 'Pass a tree path as the image, or map the tag in local.trees of wvo.config.json.',
      });
    }
    return { image: ref, imageId: tree, host, bytes: 0, durationMs: 0, transferred: false };
  }

  private treeOf(ref: string): string | undefined {
    if (isAbsolute(ref) || ref.startsWith('.')) return this.ownerOf(ref);
    const mapped = this.options.trees?.[ref];
    return mapped ? this.ownerOf(mapped) : undefined;
  }

  /** The staged tree (direct child of the root) holding `path`, if any. */
  private ownerOf(path: string): string | undefined {
    const rel = relative(this.root, resolve(this.options.projectRoot, path));
    if (!rel || rel.startsWith('..') || isAbsolute(rel)) return undefined;
    return join(this.root, rel.split(sep)[0]!);
  }
}
