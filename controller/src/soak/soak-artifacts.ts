import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../common/src/atomic-write.js';
import { readShadowJson, readUpgradeShadowSummary, REPORT_HTML, SHADOW_JSON, writeUpgradeShadowSummary } from '../shadow/index.js';
import type { SoakStatus } from './soak-operations.js';
import { soakReportHtml } from './soak-view.js';

const BEGIN = '<!-- wvo:soak:begin -->';
const END = '<!-- wvo:soak:end -->';

/** Pure: the report with its soak section replaced (or inserted before `</body>`). */
export function withSoakSection(html: string, section: string): string {
  const block = `${BEGIN}\n${section}\n${END}`;
  const start = html.indexOf(BEGIN);
  const stop = html.indexOf(END);
  if (start >= 0 && stop > start) return `${html.slice(0, start)}${block}${html.slice(stop + END.length)}`;
  const body = html.lastIndexOf('</body>');
  return body >= 0 ? `${html.slice(0, body)}${block}\n${html.slice(body)}` : `${html}\n${block}\n`;
}

/** Pure: what a soak adds to `upgrade_shadow.json.count`: reported answer groups + the last checkpoint's reported state differences. */
export function soakDifferences(status: SoakStatus): number {
  return status.answer_groups.filter((group) => group.reported).length + (status.soak?.state_diffs ?? 0);
}

/**
 * After each checkpoint and at the end: the soak section of the upgrade's report.html, and
 * `upgrade_shadow.json` (so `.queue.shadow_diffs`) counting the soak's differences on top of the
 * shadow's: count = shadow.json `totals.count` + soak_differences. Only when the summary still
 * describes this upgrade's run: a newer run's summary is never overwritten.
 */
export async function writeSoakArtifacts(status: SoakStatus, roots: { projectRoot: string; stateRoot: string }): Promise<void> {
  const soak = status.soak;
  if (!soak) return;
  const dir = join(roots.projectRoot, 'experiments', 'mcp', 'upgrade', soak.upgrade_id);
  const report = join(dir, REPORT_HTML);
  const html = await readFile(report, 'utf8').catch(() => undefined);
  if (html !== undefined) await writeFileAtomic(report, withSoakSection(html, soakReportHtml(status)));
  const shadowJson = join(dir, SHADOW_JSON);
  const summary = await readUpgradeShadowSummary(roots.stateRoot).catch(() => undefined);
  if (!summary || join(roots.projectRoot, summary.path) !== shadowJson) return;
  const shadow = await readShadowJson(shadowJson).catch(() => undefined);
  if (!shadow) return;
  const extra = soakDifferences(status);
  await writeUpgradeShadowSummary({
    stateRoot: roots.stateRoot,
    count: shadow.totals.count + extra,
    answerGroups: shadow.totals.groups_reported,
    stateDifferences: shadow.totals.state_reported,
    soakDifferences: extra,
    shadowJsonPath: shadowJson,
    relativeTo: roots.projectRoot,
    recordedAt: new Date(),
  });
}
