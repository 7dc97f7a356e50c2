import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { RuntimeError } from '../errors.js';
import type { Progress } from '../lane-runtime.js';
import { ensureBaseImage } from './base-image.js';
import { contextEntries, planContext, type ImageKind } from './build-context.js';
import { packTar } from './tar-pack.js';

export interface ResolveNodeImageOptions {
  nodeImage: string;
  /** Try a pull when nodeImage is missing locally. */
  pull: boolean;
  /** Repository of the offline base (its tag is the host's node version). */
  baseImage: string;
  onProgress?: Progress;
}

export interface ResolvedNodeImage {
  image: string;
  source: 'local' | 'pulled' | 'offline-base';
  detail?: string;
}

/** NODE_IMAGE if present (or pullable), else the offline base built from the host's node. */
export async function resolveNodeImage(docker: Docker, options: ResolveNodeImageOptions): Promise<ResolvedNodeImage> {
  try {
    await docker.getImage(options.nodeImage).inspect();
    return { image: options.nodeImage, source: 'local' };
  } catch {
    /* not here */
  }
  let pullError = 'pull disabled (images.pull=false)';
  if (options.pull) {
    options.onProgress?.({ phase: 'pull', message: `pulling ${options.nodeImage}` });
    try {
      const stream = await docker.pull(options.nodeImage, { abortSignal: AbortSignal.timeout(120_000) });
      await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
      return { image: options.nodeImage, source: 'pulled' };
    } catch (error) {
      pullError = (error as Error).message.split('\n')[0]!;
    }
  }
  options.onProgress?.({ phase: 'base', message: `${options.nodeImage} unavailable (${pullError}); using the offline base` });
  const base = await ensureBaseImage(docker, options.baseImage);
  return { image: base.tag, source: 'offline-base', detail: pullError };
}

export interface BuildImageOptions {
  kind: ImageKind;
  /** Tree holding package.json, package-lock.json, node_modules/ and dist/ (default: cwd). */
  root: string;
  /** Full reference, e.g. wvo-worker:0.1.0. */
  tag: string;
  nodeImage: string;
  version: string;
  extraLabels?: Record<string, string>;
  /** org.opencontainers.image.created (default: today, so same-day rebuilds stay cached). */
  created?: string;
  /** Ignore the engine's layer cache (benchmarks of cold builds). */
  noCache?: boolean;
  /** Where the node_modules archive is cached (default DEPS_CACHE_DIR). */
  depsCacheDir?: string;
  onProgress?: Progress;
}

export interface BuiltImage {
  kind: ImageKind;
  tag: string;
  id: string;
  contextBytes: number;
  durationMs: number;
  cachedSteps: number;
  steps: number;
}

interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

async function gitRevision(root: string): Promise<string | undefined> {
  const result = await execa('git', ['rev-parse', 'HEAD'], { cwd: root, reject: false });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/** Build one image through the engine's API from a generated context, with progress. */
export async function buildImage(docker: Docker, options: BuildImageOptions): Promise<BuiltImage> {
  const started = Date.now();
  const plan = await planContext(options.root, options.kind);
  const counter = { bytes: 0 };
  const revision = (await gitRevision(options.root)) ?? 'unknown';
  options.onProgress?.({ phase: 'context', message: `${options.kind}: ${plan.packages.length} packages + dist` });
  const log: string[] = [];
  let steps = 0;
  let cachedSteps = 0;
  let failure: string | undefined;
  try {
    const stream = await docker.buildImage(packTar(contextEntries(plan, options.depsCacheDir), counter), {
      t: options.tag,
      // Version labels come from build args in the Dockerfile, placed just before the code
      // layer: API labels would append uncached steps after it.
      buildargs: { NODE_IMAGE: options.nodeImage, WVO_VERSION: options.version, WVO_REVISION: revision, WVO_CREATED: options.created ?? new Date().toISOString().slice(0, 10) },
      ...(options.extraLabels ? { labels: options.extraLabels } : {}),
      rm: true,
      forcerm: true,
      ...(options.noCache ? { nocache: true } : {}),
    } as Docker.ImageBuildOptions);
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (event: BuildEvent) => {
          if (event.error) failure = event.errorDetail?.message ?? event.error;
          const line = event.stream?.trimEnd();
          if (!line) return;
          log.push(line);
          if (/^Step \d+\/\d+/.test(line)) {
            steps++;
            options.onProgress?.({ phase: 'build', message: `${options.kind}: ${line}` });
          }
          if (line.includes('Using cache')) cachedSteps++;
        },
      ),
    );
  } catch (error) {
    failure ??= (error as Error).message;
  }
  if (failure) {
    throw new RuntimeError('WVO_IMAGE_BUILD_FAILED', `building ${options.tag} failed: ${failure}\n${log.slice(-15).join('\n')}`, {
      subject: options.tag,
      hint: 'Read the build output above; `npm run build` first if dist/ is stale.',
      details: { logTail: log.slice(-15) },
    });
  }
  const info = await docker.getImage(options.tag).inspect();
  return { kind: options.kind, tag: options.tag, id: info.Id, contextBytes: counter.bytes, durationMs: Date.now() - started, cachedSteps, steps };
}

export interface BuildImagesOptions {
  root: string;
  kinds?: ImageKind[];
  repositories: Record<ImageKind, string>;
  tag?: string;
  nodeImage: string;
  pull: boolean;
  baseImage: string;
  onProgress?: Progress;
}

export function packageVersion(root: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** `wvo images build`: resolve NODE_IMAGE once, then build each image. */
export async function buildImages(docker: Docker, options: BuildImagesOptions): Promise<{ nodeImage: ResolvedNodeImage; images: BuiltImage[] }> {
  const version = packageVersion(options.root);
  const tag = options.tag ?? version;
  const nodeImage = await resolveNodeImage(docker, options);
  const images: BuiltImage[] = [];
  for (const kind of options.kinds ?? (['worker', 'controller'] as const)) {
    images.push(
      await buildImage(docker, {
        kind,
        root: options.root,
        tag: `${options.repositories[kind]}:${tag}`,
        nodeImage: nodeImage.image,
        version,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      }),
    );
  }
  return { nodeImage, images };
}
