import type { WvoConfig } from '../../config/index.js';
import type { ImageHolder, ImageHost, ImageStore, StagedImage } from '../image-store.js';
import { buildImage, packageVersion, resolveNodeImage } from '../images/image-build.js';
import type { Progress, TransferResult } from '../lane-runtime.js';
import type { DockerRuntime } from './docker-runtime.js';
import { isConflict, isNotFound, isTransportError, unreachable, type DockerHost } from './engine.js';

/** Labels of staged images: built by `wvo upgrade`, from which sources, for which project. */
export const STAGED_LABEL = 'wvo.staged';
export const SOURCE_HASH_LABEL = 'wvo.source-hash';
/**
 * The engine is shared between projects: reuse and prune stay inside one. Not `wvo.project`:
 * containers inherit their image's labels, and that one marks a project's lanes.
 */
export const STAGED_PROJECT_LABEL = 'wvo.staged-project';

export type DockerImageSettings = Pick<WvoConfig['images'], 'nodeImage' | 'pull' | 'baseImage'>;

/** Staged images on Docker engines: a stage becomes `wvo-worker:<id>`, built on the local engine. */
export class DockerImageStore implements ImageStore {
  readonly kind = 'docker' as const;
  private nodeImage: Promise<string> | undefined;

  constructor(
    private readonly runtime: DockerRuntime,
    private readonly settings: DockerImageSettings,
  ) {}

  async build(stageDir: string, tag: string, onProgress: (message: string) => void, sourceHash?: string): Promise<string> {
    const docker = this.runtime.host().docker;
    if (sourceHash) {
      const [previous] = await docker.listImages({
        filters: { label: [`${SOURCE_HASH_LABEL}=${sourceHash}`, `${STAGED_PROJECT_LABEL}=${this.runtime.project}`] },
      });
      if (previous) {
        const [repo, version] = tag.split(':') as [string, string];
        await docker.getImage(previous.Id).tag({ repo, tag: version });
        onProgress(`image ${tag}: same sources as ${previous.RepoTags?.[0] ?? previous.Id.slice(0, 19)}, reused`);
        return tag;
      }
    }
    this.nodeImage ??= resolveNodeImage(docker, {
      nodeImage: this.settings.nodeImage,
      pull: this.settings.pull,
      baseImage: this.settings.baseImage,
      onProgress: (event) => onProgress(event.message ?? event.phase),
    }).then((resolved) => resolved.image);
    const built = await buildImage(docker, {
      kind: 'worker',
      root: stageDir,
      tag,
      nodeImage: await this.nodeImage,
      version: packageVersion(stageDir),
      extraLabels: { [STAGED_LABEL]: 'true', [STAGED_PROJECT_LABEL]: this.runtime.project, ...(sourceHash ? { [SOURCE_HASH_LABEL]: sourceHash } : {}) },
      onProgress: (event) => onProgress(event.message ?? event.phase),
    });
    onProgress(`image ${built.tag} (${built.cachedSteps}/${built.steps} steps cached, ${Math.round(built.durationMs)} ms)`);
    return built.tag;
  }

  async exists(ref: string): Promise<boolean> {
    try {
      await this.runtime.host().docker.getImage(ref).inspect();
      return true;
    } catch {
      return false;
    }
  }

  hostNames(): string[] {
    return this.runtime.hostNames();
  }

  async connect(host?: string): Promise<ImageHost> {
    const { name, local } = await this.runtime.ping(host);
    return { name, local };
  }

  describeStaged(): string {
    return `staged images (label ${STAGED_LABEL})`;
  }

  /** Only this project's staged images: another project's unused ones are its own to prune. */
  async listStaged(at: ImageHost, options: { labels?: readonly string[] } = {}): Promise<StagedImage[]> {
    return this.onHost(at, async (host) => {
      const labels = [`${STAGED_LABEL}=true`, `${STAGED_PROJECT_LABEL}=${this.runtime.project}`, ...(options.labels ?? [])];
      const out: StagedImage[] = [];
      for (const image of await host.docker.listImages({ filters: { label: labels } })) {
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
    });
  }

  async keyOf(at: ImageHost, use: { key?: string; ref?: string }): Promise<string | undefined> {
    if (use.key || !use.ref) return use.key;
    const ref = use.ref;
    return this.onHost(at, (host) =>
      host.docker
        .getImage(ref)
        .inspect()
        .then((i) => i.Id)
        .catch((error: unknown) => (isNotFound(error) ? undefined : Promise.reject(error))),
    );
  }

  /** Containers of any kind hold their image too (the engine would refuse anyway). */
  async holders(at: ImageHost, lanes: ReadonlySet<string>): Promise<ImageHolder[]> {
    return this.onHost(at, async (host) =>
      (await host.docker.listContainers({ all: true }))
        .filter((container) => !lanes.has(container.Id))
        .map((container) => ({ key: container.ImageID, kind: 'container', container: container.Names?.[0]?.replace(/^\//, '') ?? container.Id.slice(0, 12) })),
    );
  }

  /**
   * Tags first (a tag another image shares is only untagged), then the id of what is left. Never
   * forced: the engine removes only untagged parents no other image needs, and an image a
   * container uses is refused.
   */
  async remove(at: ImageHost, image: StagedImage): Promise<string | undefined> {
    const host = this.runtime.host(at.name);
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
    for (const tag of image.refs) {
      const refused = await attempt(tag);
      if (refused) return refused;
    }
    const left = await host.docker
      .getImage(image.key)
      .inspect()
      .then(() => true)
      .catch((error: unknown) => (isNotFound(error) ? false : Promise.reject(error)));
    return left ? attempt(image.key) : undefined;
  }

  transfer(ref: string, host: string, options: { onProgress?: Progress } = {}): Promise<TransferResult> {
    return this.runtime.transferImage(ref, host, options);
  }

  private async onHost<T>(at: ImageHost, fn: (host: DockerHost) => Promise<T>): Promise<T> {
    const host = this.runtime.host(at.name);
    try {
      return await fn(host);
    } catch (error) {
      throw isTransportError(error) ? unreachable(host, error) : error;
    }
  }
}

function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: string } }).json;
  return (json?.message ?? (error as Error).message ?? String(error)).trim();
}
