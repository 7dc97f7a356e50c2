import { join, relative } from 'node:path';
import type { Logger } from '../../../../common/src/logger.js';
import type { LaneRuntime } from '../../runtime/index.js';
import type { UpgradeOptions } from '../options.js';
import { stageGitRef, stageWorkspace, type StageResult } from '../stage.js';
import type { LaneImageBuilder } from '../upgrade-context.js';
import type { RunLayout } from './layout.js';
import type { Say, UpgradeStep } from './step.js';

export interface StageInput {
  options: Pick<UpgradeOptions, 'workspace' | 'baseline'>;
  layout: Pick<RunLayout, 'stageRoot' | 'depsCache'>;
  projectRoot: string;
  runtime: LaneRuntime;
  images: LaneImageBuilder;
  logger: Logger;
}

/** The baseline is either runnable already (an image or built tree) or a stage still to build. */
export type BaselineSource = { kind: 'image'; image: string } | { kind: 'stage'; stage: StageResult };

export interface StageOutput {
  candidate: StageResult;
  baseline: BaselineSource;
}

/** Copy the workspace (the candidate) into the stage with its dependencies, and find the baseline. */
export const stageStep: UpgradeStep<StageInput, StageOutput> = {
  name: 'stage',
  async run({ options, layout, projectRoot, runtime, images, logger }, say) {
    const candidate = await stageWorkspace({
      workspace: options.workspace,
      stageDir: join(layout.stageRoot, 'candidate'),
      depsCacheRoot: layout.depsCache,
      logger,
    });
    say(`candidate: ${candidate.files} files, dependencies ${candidate.deps}`);
    const { baseline, source } = await findBaseline({ options, layout, runtime, images, logger }, say);
    return {
      detail: {
        stage: relative(projectRoot, layout.stageRoot),
        candidate_files: candidate.files,
        candidate_bytes: candidate.bytes,
        dependencies: candidate.deps,
        lock_hash: candidate.lockHash,
        baseline: source,
      },
      output: { candidate, baseline },
    };
  },
};

/** What runs live now; else --baseline (an image/tree the runtime has, or a git ref); else HEAD. */
async function findBaseline(
  { options, layout, runtime, images, logger }: Omit<StageInput, 'projectRoot'>,
  say: Say,
): Promise<{ baseline: BaselineSource; source: string }> {
  // The baseline is what serves now, even while a busy lane's health probe lags (`starting`,
  // `unhealthy`): falling back to HEAD then would shadow the candidate against itself.
  const running = (await runtime.listLanes()).filter((lane) => lane.role === 'live' && lane.status !== 'stopped' && lane.status !== 'exited');
  const live = running.find((lane) => lane.status === 'ready') ?? running[0];
  if (!options.baseline && live) return { baseline: { kind: 'image', image: live.image }, source: `live lane ${live.name}` };
  if (options.baseline && (await images.exists(options.baseline))) {
    return { baseline: { kind: 'image', image: options.baseline }, source: `--baseline ${options.baseline}` };
  }
  const ref = options.baseline ?? 'HEAD';
  const stage = await stageGitRef({
    workspace: options.workspace,
    ref,
    stageDir: join(layout.stageRoot, 'baseline'),
    depsCacheRoot: layout.depsCache,
    logger,
  });
  say(`baseline: git ${ref}, ${stage.files} files`);
  return { baseline: { kind: 'stage', stage }, source: `git ${ref}` };
}
