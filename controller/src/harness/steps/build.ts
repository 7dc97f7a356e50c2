import type { Logger } from '../../../../common/src/logger.js';
import { buildStagedTree, type BuildResult } from '../build.js';
import type { StageResult } from '../stage.js';
import type { LaneImageBuilder } from '../upgrade-context.js';
import type { BaselineSource } from './stage.js';
import type { Say, UpgradeStep } from './step.js';

export interface BuildInput {
  id: string;
  candidate: StageResult;
  baseline: BaselineSource;
  buildCache: string;
  /** The app's npm build script (WORKER_APP_CONFIG: `build:worker`). */
  buildScript?: string;
  images: LaneImageBuilder;
  logger: Logger;
}

/** What the lanes run: an image tag (docker) or a built tree (local). */
export interface LaneImages {
  candidateImage: string;
  baselineImage: string;
}

/** Build the candidate (and a staged baseline) and turn each into something a lane can run. */
export const buildStep: UpgradeStep<BuildInput, LaneImages> = {
  name: 'build',
  async run({ id, candidate, baseline, buildCache, buildScript, images, logger }, say) {
    const candidateBuild = await buildStagedTree(candidate.dir, buildCache, logger, buildScript);
    say(`candidate tree ${candidateBuild.dist === 'cache-hit' ? 'unchanged (cached build)' : `built (npm run ${candidateBuild.script})`}`);
    const candidateImage = await images.build(candidate.dir, `wvo-worker:${id}`, say, candidateBuild.sourceHash);
    const baselineRun = await runnableBaseline(baseline, `wvo-worker:${id}-baseline`, buildCache, buildScript, images, logger, say);
    return {
      detail: {
        candidate_image: candidateImage,
        candidate_tree: candidateBuild.dist,
        build_script: candidateBuild.script,
        source_hash: candidateBuild.sourceHash,
        baseline_image: baselineRun.image,
        ...(baselineRun.tree ? { baseline_tree: baselineRun.tree } : {}),
      },
      output: { candidateImage, baselineImage: baselineRun.image },
    };
  },
};

/** A baseline that is already runnable is used as it is; a staged one is built like the candidate. */
async function runnableBaseline(
  baseline: BaselineSource,
  tag: string,
  buildCache: string,
  buildScript: string | undefined,
  images: LaneImageBuilder,
  logger: Logger,
  say: Say,
): Promise<{ image: string; tree?: BuildResult['dist'] }> {
  if (baseline.kind === 'image') return { image: baseline.image };
  const built = await buildStagedTree(baseline.stage.dir, buildCache, logger, buildScript);
  return { image: await images.build(baseline.stage.dir, tag, say, built.sourceHash), tree: built.dist };
}
