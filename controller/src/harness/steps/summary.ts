import { mkdirSync } from 'node:fs';
import { relative } from 'node:path';
import type { Clock } from '../../../../common/src/clock.js';
import { writeReportHtml, writeShadowJson, writeUpgradeShadowSummary, type ShadowResult } from '../../shadow/index.js';
import type { StepRecord } from '../steps.js';
import type { UpgradeResult } from '../upgrade-context.js';
import type { UpgradeStep } from './step.js';

export interface SummaryInput {
  id: string;
  artifactsDir: string;
  stateRoot: string;
  projectRoot: string;
  shadow: ShadowResult;
  /** The steps recorded so far, for the report. */
  steps: readonly StepRecord[];
  clock: Clock;
}

export type SummaryOutput = NonNullable<UpgradeResult['shadow']>;

/** shadow.json, report.html, and the live worker's analytics/upgrade_shadow.json (the only live write). */
export const summaryStep: UpgradeStep<SummaryInput, SummaryOutput> = {
  name: 'summary',
  async run({ id, artifactsDir, stateRoot, projectRoot, shadow, steps, clock }) {
    mkdirSync(artifactsDir, { recursive: true });
    const shadowJson = await writeShadowJson(artifactsDir, shadow);
    const reportHtml = await writeReportHtml(artifactsDir, {
      result: shadow,
      title: `wvo upgrade ${id}`,
      steps: steps.map((s) => ({ name: s.name, status: s.status, duration_ms: s.duration_ms, detail: s.detail })),
    });
    const summary = await writeUpgradeShadowSummary({
      stateRoot,
      count: shadow.totals.count,
      answerGroups: shadow.totals.groups_reported,
      stateDifferences: shadow.totals.state_reported,
      shadowJsonPath: shadowJson,
      relativeTo: projectRoot,
      recordedAt: new Date(clock.now()),
    });
    return {
      detail: {
        shadow_json: relative(projectRoot, shadowJson),
        report_html: relative(projectRoot, reportHtml),
        upgrade_shadow: summary,
      },
      output: {
        count: shadow.totals.count,
        answerGroups: shadow.totals.groups_reported,
        stateDifferences: shadow.totals.state_reported,
        reported: shadow.totals.reported,
        cancelled: shadow.totals.cancelled,
        shadowJson,
        reportHtml,
      },
    };
  },
};
