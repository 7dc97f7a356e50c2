import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import type { WvoConfig } from '../config/index.js';
import type { DockerRuntime } from '../runtime/docker/docker-runtime.js';
import { buildImage, packageVersion, resolveNodeImage } from '../runtime/images/image-build.js';
import type { LaneImageBuilder } from './upgrade.js';

/** Labels of staged images: built by `wvo upgrade`, from which sources, for which project. */
export const STAGED_LABEL = 'wvo.staged';
export const SOURCE_HASH_LABEL = 'wvo.source-hash';
/**
 * The engine is shared between projects: reuse and prune stay inside one. Not `wvo.project`:
 * containers inherit their image's labels, and that one marks a project's lanes.
 */
export const STAGED_PROJECT_LABEL = 'wvo.staged-project';

/** Docker lanes run images: a stage becomes `wvo-worker:<id>` built on the local engine. */
export function dockerLaneImages(runtime: DockerRuntime, config: WvoConfig): LaneImageBuilder {
  let nodeImage: Promise<string> | undefined;
  return {
    async build(stageDir, tag, onProgress, sourceHash) {
      const docker = runtime.host().docker;
      if (sourceHash) {
        const [previous] = await docker.listImages({
          filters: { label: [`${SOURCE_HASH_LABEL}=${sourceHash}`, `${STAGED_PROJECT_LABEL}=${runtime.project}`] },
        });
        if (previous) {
          const [repo, version] = tag.split(':') as [string, string];
          await docker.getImage(previous.Id).tag({ repo, tag: version });
          onProgress(`image ${tag}: same sources as ${previous.RepoTags?.[0] ?? previous.Id.slice(0, 19)}, reused`);
          return tag;
        }
      }
      nodeImage ??= resolveNodeImage(docker, {
        nodeImage: config.images.nodeImage,
        pull: config.images.pull,
        baseImage: config.images.baseImage,
        onProgress: (event) => onProgress(event.message ?? event.phase),
      }).then((resolved) => resolved.image);
      const built = await buildImage(docker, {
        kind: 'worker',
        root: stageDir,
        tag,
        nodeImage: await nodeImage,
        version: packageVersion(stageDir),
        extraLabels: { [STAGED_LABEL]: 'true', [STAGED_PROJECT_LABEL]: runtime.project, ...(sourceHash ? { [SOURCE_HASH_LABEL]: sourceHash } : {}) },
        onProgress: (event) => onProgress(event.message ?? event.phase),
      });
      onProgress(`image ${built.tag} (${built.cachedSteps}/${built.steps} steps cached, ${Math.round(built.durationMs)} ms)`);
      return built.tag;
    },
    async exists(ref) {
      try {
        await runtime.host().docker.getImage(ref).inspect();
        return true;
      } catch {
        return false;
      }
    },
  };
}

/**
 * Local lanes run built trees. With `imagesRoot`, a stage is kept as a durable tree there (hard
 * links, named by source hash, so equal sources share one), which a later `wvo promote` can still
 * start after the harness removed its stage; without it the stage itself is the "image".
 */
export function localLaneImages(imagesRoot?: string): LaneImageBuilder {
  return {
    async build(stageDir, tag, onProgress, sourceHash) {
      if (!imagesRoot) return resolve(stageDir);
      const tree = join(resolve(imagesRoot), sourceHash ?? tag.replace(/[^\w.-]/g, '_'));
      if (existsSync(join(tree, 'dist', 'worker', 'src', 'main.js'))) {
        onProgress(`tree ${tree}: same sources, reused`);
        return tree;
      }
      rmSync(tree, { recursive: true, force: true });
      mkdirSync(dirname(tree), { recursive: true });
      await execa('cp', ['-al', resolve(stageDir), tree]);
      onProgress(`tree ${tree}`);
      return tree;
    },
    async exists(ref) {
      return existsSync(join(ref, 'dist', 'worker', 'src', 'main.js'));
    },
  };
}
