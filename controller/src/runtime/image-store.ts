import type { Progress, RuntimeKind, TransferResult } from './lane-runtime.js';

/**
 * What a lane runs, as a resource of its own (testcontainers-node: one small interface per
 * resource): `docker/` keeps images on engines, `local/` keeps built trees under tmp/wv-images.
 * The harness builds from a stage and asks whether a ref is runnable; `wvo images prune` lists
 * what the harness staged, asks what holds it, and removes it. Retention is decided elsewhere
 * (harness/staged-gc.ts), on the plain data this returns.
 */

/** One staged image (docker: key = image id, refs = its tags) or tree (local: key = ref = its path). */
export interface StagedImage {
  kind: 'image' | 'tree';
  key: string;
  refs: string[];
  /** ms; for images the later of creation and last tagging (a reused image is as new as its reuse). */
  createdAt: number;
  bytes: number;
  /** The sources it was built from (`wvo.source-hash` label / the tree's name): links build caches to it. */
  sourceHash?: string;
  /** Local: a `.pruning-*` tree an interrupted removal left; nothing can use it. */
  interrupted?: boolean;
}

/** Something besides lanes and deployments that holds an image: a container (docker), a local.trees entry (local). */
export type ImageHolder =
  | { key: string; kind: 'container'; container: string }
  | { key: string; kind: 'config'; configKey: string };

/** A host the store keeps images on, checked to answer. */
export interface ImageHost {
  name: string;
  /** The host images are built on (this machine): caches and stages under tmp/ belong to it. */
  local: boolean;
}

export interface ImageStore {
  /** Swarm lanes run images from the docker store (built on the local engine, loaded on nodes). */
  readonly kind: Exclude<RuntimeKind, 'swarm'>;
  /**
   * Turn a built stage into something `startLane` can run (an image tag, a tree path) that
   * outlives the stage. `sourceHash` names the sources: an image or tree built from the same
   * sources is reused, so an unchanged baseline costs nothing on the next run.
   */
  build(stageDir: string, tag: string, onProgress: (message: string) => void, sourceHash?: string): Promise<string>;
  /** Is `ref` runnable here (an image the engine has, a built tree)? */
  exists(ref: string): Promise<boolean>;
  /** Names `host` options may take. */
  hostNames(): string[];
  /** Check `host` (default: where images are built) answers; WVO_HOST_UNKNOWN / WVO_ENGINE_UNREACHABLE. */
  connect(host?: string): Promise<ImageHost>;
  /** What `listStaged` lists, in words, for progress lines ("staged images (label wvo.staged)"). */
  describeStaged(): string;
  /** What the harness staged on `host` for this project (docker: narrowed by `key=value` labels). */
  listStaged(host: ImageHost, options?: { labels?: readonly string[] }): Promise<StagedImage[]>;
  /** The staged image a lane's image id (`key`) or ref denotes, as `listStaged` keys it; undefined if none. */
  keyOf(host: ImageHost, use: { key?: string; ref?: string }): Promise<string | undefined>;
  /** Holders other than lanes (`lanes`: their container ids, already counted as lanes). */
  holders(host: ImageHost, lanes: ReadonlySet<string>): Promise<ImageHolder[]>;
  /** Remove one staged image, never forced: returns why the store refused (reported, not thrown), or undefined when gone. */
  remove(host: ImageHost, image: StagedImage): Promise<string | undefined>;
  /** Make `ref` available on `host` (docker: save → load from the build host, checked by id). */
  transfer(ref: string, host: string, options?: { onProgress?: Progress }): Promise<TransferResult>;
}
