import { escapeHtml, type ShadowGroup } from '../shadow/index.js';
import type { SoakStatus } from './soak-operations.js';
import { cleanSoakMs, type SoakRecord } from './soak-record.js';

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** One line for `wvo status` and `wvo soak status`. */
export function soakSummaryLine(soak: SoakRecord): string {
  const tail = soak.error ? `; ${soak.error.code}: ${soak.error.message}` : '';
  return (
    `soak ${soak.id} ${soak.state} (upgrade ${soak.upgrade_id}, live ${soak.live_lane}): replayed ${soak.replayed} calls (seq ${soak.fork_seq}→${soak.last_seq}), ` +
    `lag ${soak.lag_calls} calls / ${seconds(soak.lag_ms)}, answer diffs ${soak.answer_diffs}, state diffs ${soak.state_diffs}, ` +
    `checkpoints ${soak.checkpoints}, clean ${seconds(cleanSoakMs(soak))}${soak.lane_restarts ? `, lane restarts ${soak.lane_restarts}` : ''}${tail}`
  );
}

interface StateGroupView {
  table: string;
  column?: string;
  kind: string;
  rows: number;
  reported: boolean;
  examples: Array<{ key: unknown; baseline?: unknown; candidate?: unknown }>;
}

/** The soak section of the upgrade's report.html: figures, grouped answer differences, the last checkpoint's state groups. */
export function soakReportHtml(status: SoakStatus): string {
  const soak = status.soak;
  if (!soak) return '';
  const groups = status.answer_groups.filter((group) => group.reported);
  const last = [...status.checkpoints].reverse().find((checkpoint) => checkpoint.state !== null);
  const stateGroups = ((last?.state as { databases?: Array<{ groups: StateGroupView[] }> } | null)?.databases ?? []).flatMap((db) => db.groups).filter((g) => g.reported);
  const cell = (value: unknown) => `<td><code>${escapeHtml(JSON.stringify(value) ?? '')}</code></td>`;
  const answerRows = groups.map((group: ShadowGroup) => `<tr><td>${escapeHtml(group.tool)}</td><td><code>${escapeHtml(group.path)}</code></td><td>${escapeHtml(group.kind)}</td><td>${group.calls.length}</td></tr>`).join('\n');
  const stateRows = stateGroups
    .map((group) => `<tr><td>${escapeHtml(group.table)}${group.column ? `.${escapeHtml(group.column)}` : ''}</td><td>${escapeHtml(group.kind)}</td><td>${group.rows}</td>${cell(group.examples[0]?.key)}${cell(group.examples[0]?.baseline)}${cell(group.examples[0]?.candidate)}</tr>`)
    .join('\n');
  return `<section id="soak">
<h2>Dual-write soak</h2>
<p>${escapeHtml(`Soak ${soak.id} (${soak.state}): the live journal replayed to a baseline replica (${soak.baseline_image}) and the candidate (${soak.candidate_image}) on forks taken at seq ${soak.fork_seq}.`)}</p>
<table>
<tr><th>replayed calls</th><td>${soak.replayed}</td></tr>
<tr><th>answer differences (calls)</th><td>${soak.answer_diffs}</td></tr>
<tr><th>state differences (last checkpoint)</th><td>${soak.state_diffs}</td></tr>
<tr><th>checkpoints</th><td>${soak.checkpoints}</td></tr>
<tr><th>clean for</th><td>${seconds(status.clean_ms)}</td></tr>
<tr><th>lag</th><td>${soak.lag_calls} calls, ${seconds(soak.lag_ms)}</td></tr>
${soak.error ? `<tr><th>stopped by</th><td><code>${escapeHtml(soak.error.code)}</code> ${escapeHtml(soak.error.message)}</td></tr>` : ''}
</table>
<h3>Answer differences, grouped</h3>
${groups.length ? `<table><tr><th>tool</th><th>path</th><th>kind</th><th>calls</th></tr>\n${answerRows}\n</table>` : '<p>None.</p>'}
<h3>State differences at the last checkpoint</h3>
${stateGroups.length ? `<table><tr><th>table.column</th><th>kind</th><th>rows</th><th>first key</th><th>baseline</th><th>candidate</th></tr>\n${stateRows}\n</table>` : '<p>None.</p>'}
</section>`;
}
