import { mkdirSync } from 'node:fs';
import type { LaneRuntime } from '../../runtime/index.js';
import { defaultSuite, loadSuite, type Suite } from '../../shadow/index.js';
import type { UpgradeOptions } from '../options.js';
import { runPreflight } from '../preflight.js';
import type { UpgradeStep } from './step.js';

export interface PreflightInput {
  options: Pick<UpgradeOptions, 'workspace' | 'allowDirty' | 'minFreeMb' | 'suite'>;
  runtime: LaneRuntime;
  tmpRoot: string;
}

export interface PreflightOutput {
  suite: Suite;
  /** The suite file, or `default suite`. */
  suiteSource: string;
}

/** The workspace is a clean project with room to stage, and the suite loads (DESIGN §4 step 1). */
export const preflightStep: UpgradeStep<PreflightInput, PreflightOutput> = {
  name: 'preflight',
  async run({ options, runtime, tmpRoot }) {
    const suiteSource = options.suite ? options.suite : 'default suite';
    const suite = options.suite ? await loadSuite(options.suite) : defaultSuite();
    mkdirSync(tmpRoot, { recursive: true });
    const report = await runPreflight({
      workspace: options.workspace,
      allowDirty: options.allowDirty,
      stageRoot: tmpRoot,
      minFreeBytes: options.minFreeMb * 1024 * 1024,
    });
    const lanes = await runtime.listLanes();
    return {
      detail: {
        workspace: options.workspace,
        git: report.git,
        head: report.head,
        dirty_files: report.dirtyFiles.length,
        sqlite: report.sqlite,
        free_mb: Math.round(report.freeBytes / 1024 / 1024),
        runtime: runtime.kind,
        lanes_running: lanes.length,
        suite: suiteSource,
        suite_calls: suite.calls.length,
      },
      output: { suite, suiteSource },
    };
  },
};
