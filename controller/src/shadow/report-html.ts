import { join } from 'node:path';
import { writeFileAtomic } from '../../../common/src/atomic-write.js';
import { LANES, type ShadowDiff, type ShadowResult } from './shadow-result.js';

/** A harness step as steps.json records it; only what the report shows. */
export interface ReportStep {
  readonly name: string;
  readonly status: string;
  readonly started_at?: string;
  readonly duration_ms?: number;
  readonly detail?: unknown;
}

export interface ReportOptions {
  readonly result: ShadowResult;
  /** e.g. the upgrade id; shown in the title. */
  readonly title?: string;
  readonly steps?: readonly ReportStep[];
}

export const REPORT_HTML = 'report.html';

/**
 * A self-contained page (inline CSS, no scripts, no external assets) so it reads the same from
 * a CI artifact, an email attachment or a laptop offline. Every value from a lane is escaped:
 * lanes answer with whatever their data holds, including markup.
 */
export function renderReportHtml(options: ReportOptions): string {
  const { result } = options;
  const title = `WVO shadow report${options.title ? ` — ${options.title}` : ''}`;
  const reported = result.diffs.filter((diff) => diff.reported);
  const cancelled = result.diffs.filter((diff) => !diff.reported);
  const verdict =
    reported.length === 0
      ? `<p class="ok">No behavioural differences: ${result.totals.cancelled} noisy difference(s) cancelled.</p>`
      : `<p class="warn">${reported.length} difference(s) reported for review.</p>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(title)}</h1>
${verdict}
${summaryTable(result)}
${options.steps && options.steps.length > 0 ? stepsTable(options.steps) : ''}
<h2>Reported differences</h2>
${reported.length === 0 ? '<p>None.</p>' : byTool(reported, false)}
<details class="noise">
<summary>Cancelled as noise (${cancelled.length})</summary>
${cancelled.length === 0 ? '<p>None.</p>' : byTool(cancelled, true)}
</details>
<h2>Calls</h2>
${callsTable(result)}
<footer>Generated ${esc(result.finished_at)} by wvo. Thresholds: relative ${esc(result.thresholds.relative)}, absolute ${esc(result.thresholds.absolute)}, timestamp tolerance ${esc(result.thresholds.timestamp_tolerance_ms)} ms.</footer>
</body>
</html>
`;
}

/** Write `<dir>/report.html` atomically; returns its path. */
export async function writeReportHtml(dir: string, options: ReportOptions): Promise<string> {
  const file = join(dir, REPORT_HTML);
  await writeFileAtomic(file, renderReportHtml(options));
  return file;
}

function summaryTable(result: ShadowResult): string {
  const rows: [string, string][] = [
    ['Calls', String(result.totals.calls)],
    ['Differences reported', String(result.totals.reported)],
    ['Differences cancelled (noise)', String(result.totals.cancelled)],
    ['Started', result.started_at],
    ['Finished', result.finished_at],
    ...LANES.map((lane): [string, string] => [`Lane ${lane}`, result.lanes[lane]]),
  ];
  return `<table class="summary">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

function stepsTable(steps: readonly ReportStep[]): string {
  const rows = steps
    .map(
      (step) =>
        `<tr class="status-${esc(step.status)}"><td>${esc(step.name)}</td><td>${esc(step.status)}</td><td>${esc(step.started_at ?? '')}</td><td class="num">${esc(step.duration_ms ?? '')}</td><td>${esc(step.detail === undefined ? '' : typeof step.detail === 'string' ? step.detail : JSON.stringify(step.detail))}</td></tr>`,
    )
    .join('\n');
  return `<h2>Steps</h2>
<table><thead><tr><th>step</th><th>status</th><th>started</th><th>ms</th><th>detail</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function byTool(diffs: readonly ShadowDiff[], withReplica: boolean): string {
  const tools = [...new Set(diffs.map((diff) => diff.tool))];
  return tools
    .map((tool) => {
      const rows = diffs
        .filter((diff) => diff.tool === tool)
        .map(
          (diff) => `<tr>
<td>${esc(diff.call_name)}<div class="args">${esc(JSON.stringify(diff.arguments))}</div></td>
<td><code>${esc(diff.path)}</code><div class="kind">${esc(diff.kind)}</div></td>
<td>${value(diff, 'baseline')}</td>
${withReplica ? `<td>${value(diff, 'replica')}</td>` : ''}
<td>${value(diff, 'candidate')}</td>
<td>${esc(diff.verdict)}<div class="reason">${esc(diff.reason)}</div></td>
</tr>`,
        )
        .join('\n');
      return `<h3>${esc(tool)}</h3>
<table class="diffs"><thead><tr><th>call</th><th>path</th><th>baseline</th>${withReplica ? '<th>replica</th>' : ''}<th>candidate</th><th>verdict</th></tr></thead>
<tbody>${rows}</tbody></table>`;
    })
    .join('\n');
}

function callsTable(result: ShadowResult): string {
  const rows = result.calls
    .map((call) => {
      const answers =
        call.results.baseline === undefined && call.results.candidate === undefined
          ? ''
          : `<details><summary>answers</summary><div class="side">${LANES.map(
              (lane) => `<div><h4>${lane}</h4><pre>${esc(json(call.results[lane]))}</pre></div>`,
            ).join('')}</div></details>`;
      return `<tr><td class="num">${call.index}</td><td>${esc(call.name)}${answers}</td><td>${esc(call.tool)}</td>
<td class="num">${LANES.map((lane) => esc(call.duration_ms[lane])).join(' / ')}</td>
<td>${LANES.map((lane) => (call.is_error[lane] ? 'error' : 'ok')).join(' / ')}</td>
<td class="num">${call.reported}</td><td class="num">${call.cancelled}</td></tr>`;
    })
    .join('\n');
  return `<table><thead><tr><th>#</th><th>call</th><th>tool</th><th>ms (baseline / replica / candidate)</th><th>result</th><th>reported</th><th>cancelled</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function value(diff: ShadowDiff, lane: 'baseline' | 'replica' | 'candidate'): string {
  if (!Object.hasOwn(diff, lane)) return '<span class="absent">(absent)</span>';
  return `<pre>${esc(json(diff[lane]))}</pre>`;
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? String(value);
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function esc(value: unknown): string {
  return escapeHtml(String(value));
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d2330;max-width:1400px}
h1{font-size:1.5rem}h2{margin-top:2rem;border-bottom:1px solid #d7dbe3}h3{margin-bottom:.3rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #d7dbe3;padding:.3rem .5rem;text-align:left;vertical-align:top}
thead th{background:#f1f3f7}table.summary{width:auto}table.summary th{background:#f7f8fa}
pre{margin:0;white-space:pre-wrap;word-break:break-word;font:12px/1.35 ui-monospace,Menlo,Consolas,monospace;max-height:24rem;overflow:auto}
code{font:12px ui-monospace,Menlo,Consolas,monospace}
.num{text-align:right}.args,.kind,.reason{color:#5b6475;font-size:12px;word-break:break-word}
.absent{color:#8a93a5;font-style:italic}
.ok{color:#17663a;font-weight:600}.warn{color:#8a4b00;font-weight:600}
.status-warning td{background:#fff7e6}.status-failed td{background:#fdecec}
details.noise{margin-top:1.5rem}details.noise>summary{cursor:pointer;font-weight:600}
.side{display:grid;grid-template-columns:repeat(3,1fr);gap:.5rem}.side h4{margin:.3rem 0}
footer{margin-top:2rem;color:#5b6475;font-size:12px}
`;
