import { join } from 'node:path';
import { writeFileAtomic } from '../../../common/src/atomic-write.js';
import type { StateDatabaseDiff, StateGroup } from '../state/index.js';
import type { ShadowGroup } from './grouping.js';
import { esc, fieldsHtml, json, valueHtml } from './report-fields.js';
import { LANES, type ShadowResult } from './shadow-result.js';

export { escapeHtml } from './report-fields.js';

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

/** The one-line verdict of the `#summary` element (also what a test or a script reads). */
export function summaryText(result: ShadowResult): string {
  const reported = result.groups.filter((g) => g.reported);
  const regressions = reported.filter((g) => g.verdict === 'regression').length;
  const additions = reported.filter((g) => g.verdict === 'addition').length;
  const verdict = result.totals.count === 0 ? 'Verdict: no behavioural differences.' : `Verdict: ${result.totals.count} difference(s) to review.`;
  const answers = `Answers: ${reported.length} group(s) reported (${regressions} regression(s), ${additions} addition(s)) from ${result.totals.reported} raw difference(s); ${result.totals.cancelled} cancelled as noise.`;
  const state = result.state
    ? `State: ${result.state.reported} difference(s) in ${result.state.databases.length} database(s); ${result.state.databases.reduce((n, db) => n + db.schema.additions.length, 0)} schema addition(s).`
    : 'State: not compared.';
  const paths = result.coverage.tools.reduce((n, tool) => n + tool.paths.length, 0);
  const coverage = `Coverage: ${result.coverage.tools.length} tool(s), ${paths} success/error path(s), ${result.coverage.executor_gaps.length} executor gap(s).`;
  return `${verdict} ${answers} ${state} ${coverage}`;
}

/**
 * A self-contained page (inline CSS, no scripts, no external assets) so it reads the same from
 * a CI artifact, an email attachment or a laptop offline. Every value from a lane is escaped:
 * lanes answer with whatever their data holds, including markup.
 */
export function renderReportHtml(options: ReportOptions): string {
  const { result } = options;
  const title = `WVO shadow report${options.title ? ` — ${options.title}` : ''}`;
  const reported = result.groups.filter((g) => g.reported);
  const cancelled = result.groups.filter((g) => !g.reported);
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
<p id="summary" class="${result.totals.count === 0 ? 'ok' : 'warn'}">${esc(summaryText(result))}</p>
${overviewTable(result)}
<h2>Answer differences</h2>
${reported.length === 0 ? '<p>None reported.</p>' : groupsByTool(reported, false)}
<details class="noise">
<summary>Cancelled as noise (${cancelled.reduce((n, g) => n + g.count, 0)} in ${cancelled.length} group(s))</summary>
${cancelled.length === 0 ? '<p>None.</p>' : groupsByTool(cancelled, true)}
</details>
<h2>State differences</h2>
${stateSection(result)}
${toolSurfaceSection(result)}
${skippedSection(result)}
<h2>Coverage</h2>
${coverageSection(result)}
${options.steps && options.steps.length > 0 ? stepsTable(options.steps) : ''}
<h2>Calls</h2>
${callsTable(result)}
<details class="noise">
<summary>Noise model (${result.noise.samples} sample answer(s), ${result.noise.paths.length} noisy path(s))</summary>
${noiseTable(result)}
</details>
<footer>Generated ${esc(result.finished_at)} by wvo. Thresholds: relative ${esc(result.thresholds.relative)}, absolute ${esc(result.thresholds.absolute)}, proportional ${esc(result.thresholds.proportional)}, timestamp tolerance ${esc(result.thresholds.timestamp_tolerance_ms)} ms.</footer>
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

function overviewTable(result: ShadowResult): string {
  const rows: [string, string][] = [
    ['Count (groups + state)', String(result.totals.count)],
    ['Calls', String(result.totals.calls)],
    ['Answer groups reported', String(result.totals.groups_reported)],
    ['Raw differences reported', String(result.totals.reported)],
    ['Raw differences cancelled (noise)', String(result.totals.cancelled)],
    ['State differences reported', String(result.totals.state_reported)],
    ...(result.lane_mode
      ? [['Lanes ran in', `${result.lane_mode.mode === 'sandbox' ? 'sandbox (each commits to its own copy)' : 'strict DRY_RUN'}${result.lane_mode.reason ? ` — ${result.lane_mode.reason}` : ''}`] as [string, string]]
      : []),
    ['Started', result.started_at],
    ['Finished', result.finished_at],
    ...LANES.map((lane): [string, string] => [`Lane ${lane}`, result.lanes[lane]]),
    ...Object.entries(result.extra_replicas ?? {}).map(([name, url]): [string, string] => [`Lane ${name}`, url]),
  ];
  return `<table class="summary">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

function groupsByTool(groups: readonly ShadowGroup[], withReplica: boolean): string {
  const tools = [...new Set(groups.map((g) => g.tool))];
  return tools
    .map((tool) => {
      const rows = groups
        .filter((g) => g.tool === tool)
        .map(
          (g) => `<tr class="verdict-${esc(g.verdict)}">
<td><code>${esc(g.path)}</code><div class="kind">${esc(g.kind.replace('_', ' '))}</div></td>
<td>${esc(g.verdict)}</td>
<td class="num">${g.count}</td>
<td>${g.calls.map((c) => esc(c.name)).join(', ')}</td>
<td><div class="args">${esc(g.example.call_name)} <code>${esc(g.example.path)}</code></div>${valueHtml(g.example, 'baseline')}</td>
${withReplica ? `<td>${valueHtml(g.example, 'replica')}</td>` : ''}
<td>${valueHtml(g.example, 'candidate')}</td>
<td class="reason">${esc(g.example.reason)}</td>
</tr>`,
        )
        .join('\n');
      return `<h3>${esc(tool)}</h3>
<table class="diffs"><thead><tr><th>path</th><th>verdict</th><th>count</th><th>calls</th><th>baseline (example)</th>${withReplica ? '<th>replica</th>' : ''}<th>candidate</th><th>why</th></tr></thead>
<tbody>${rows}</tbody></table>`;
    })
    .join('\n');
}

/** The tool-surface gate: every classified change, breaking first. */
function toolSurfaceSection(result: ShadowResult): string {
  const surface = result.tool_surface;
  if (!surface) return '';
  const order = { breaking: 0, additive: 1, informational: 2 } as const;
  const rows = [...surface.changes]
    .sort((a, b) => order[a.category] - order[b.category])
    .map((c) => `<tr class="surface-${esc(c.category)}"><td>${esc(c.category)}</td><td>${esc(c.kind)}</td><td><code>${esc(c.path)}</code></td><td><code>${esc(JSON.stringify(c.before))}</code></td><td><code>${esc(JSON.stringify(c.after))}</code></td><td class="reason">${esc(c.reason)}</td></tr>`)
    .join('\n');
  return `<h2 id="tool-surface">Tool surface</h2>
<p>${surface.breaking} breaking, ${surface.additive} additive, ${surface.informational} informational change(s).${surface.breaking > 0 ? ' A breaking change blocks --promote unless --allow-breaking.' : ''}</p>
${rows ? `<table class="diffs"><thead><tr><th>category</th><th>kind</th><th>path</th><th>baseline</th><th>candidate</th><th>why</th></tr></thead><tbody>${rows}</tbody></table>` : '<p>Baseline and candidate advertise the same surface.</p>'}`;
}

/** Suite calls not run on an app without a shadow mode, and why. */
function skippedSection(result: ShadowResult): string {
  const skipped = result.skipped_calls;
  if (!skipped || skipped.length === 0) return '';
  const rows = skipped.map((s) => `<tr><td>${esc(s.tool)}</td><td>${esc(s.call)}</td><td class="reason">${esc(s.reason)}</td></tr>`).join('\n');
  return `<h2 id="skipped-calls">Skipped calls (${skipped.length})</h2>
<table class="diffs"><thead><tr><th>tool</th><th>call</th><th>why</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function stateSection(result: ShadowResult): string {
  if (!result.state) return '<p>Not compared in this run.</p>';
  if (result.state.databases.length === 0) return '<p>No databases compared.</p>';
  return result.state.databases.map(databaseSection).join('\n');
}

function databaseSection(db: StateDatabaseDiff): string {
  const reported = db.groups.filter((g) => g.reported);
  const cancelled = db.groups.filter((g) => !g.reported);
  const schemaRows = [
    ...db.schema.removals.map((item) => ['removal', item] as const),
    ...db.schema.changes.map((item) => ['change', item] as const),
    ...db.schema.additions.map((item) => ['addition (not a regression)', item] as const),
  ]
    .map(
      ([what, item]) =>
        `<tr><td>${esc(what)}</td><td>${esc(item.type)}</td><td><code>${esc(item.column ? `${item.name}.${item.column}` : item.name)}</code></td><td>${esc(item.baseline ?? '')}</td><td>${esc(item.candidate ?? '')}</td></tr>`,
    )
    .join('\n');
  return `<h3>${esc(db.database)}</h3>
<p>${reported.length} reported group(s), ${cancelled.length} cancelled as noise (learned from ${db.samples} replica database(s)); user_version ${esc(db.user_version.baseline)} → ${esc(db.user_version.candidate)}.</p>
${reported.length === 0 ? '<p>No row differences reported.</p>' : stateGroupsTable(reported)}
${schemaRows ? `<h4>Schema</h4><table><thead><tr><th>what</th><th>type</th><th>object</th><th>baseline</th><th>candidate</th></tr></thead><tbody>${schemaRows}</tbody></table>` : ''}
${cancelled.length === 0 ? '' : `<details class="noise"><summary>Cancelled as noise (${cancelled.length} group(s))</summary>${stateGroupsTable(cancelled)}</details>`}`;
}

function stateGroupsTable(groups: readonly StateGroup[]): string {
  const rows = groups
    .map((g) => {
      const examples = g.examples
        .map((ex) => `<tr><td>${fieldsHtml(ex.key)}</td><td>${valueHtml(ex, 'baseline')}</td><td>${valueHtml(ex, 'candidate')}</td></tr>`)
        .join('');
      return `<tr class="verdict-${esc(g.verdict)}"><td><code>${esc(g.column ? `${g.table}.${g.column}` : g.table)}</code><div class="kind">${esc(g.kind.replaceAll('_', ' '))}</div></td>
<td>${esc(g.verdict)}</td><td class="num">${g.rows}</td>
<td><table class="examples"><thead><tr><th>key</th><th>baseline</th><th>candidate</th></tr></thead><tbody>${examples}</tbody></table></td>
<td class="reason">${esc(g.reason)}</td></tr>`;
    })
    .join('\n');
  return `<table class="diffs"><thead><tr><th>table.column</th><th>verdict</th><th>rows</th><th>examples</th><th>why</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function coverageSection(result: ShadowResult): string {
  const rows = result.coverage.tools
    .map(
      (tool) =>
        `<tr><td>${esc(tool.tool)}</td><td class="num">${tool.calls}</td><td><ul class="paths">${tool.paths
          .map(
            (path) =>
              `<li class="${path.outcome}">${esc(path.outcome)}${path.code ? ` <code>${esc(path.code)}</code>` : ''} — ${Object.entries(path.lanes)
                .map(([lane, n]) => `${esc(lane)} ${n}`)
                .join(', ')}</li>`,
          )
          .join('')}</ul></td></tr>`,
    )
    .join('\n');
  const gaps = result.coverage.executor_gaps;
  return `<table><thead><tr><th>tool</th><th>calls</th><th>paths reached (answers per lane)</th></tr></thead><tbody>${rows}</tbody></table>
<h3>Executor coverage gaps (${gaps.length})</h3>
${
  gaps.length === 0
    ? '<p>None: every executor answer came from a recorded run.</p>'
    : `<ul>${gaps.map((gap) => `<li>${esc(gap.call_name)} (${esc(gap.tool)}): not recorded on ${esc(gap.lanes.join(', '))} at <code>${esc(gap.paths.join(', '))}</code></li>`).join('')}</ul>`
}`;
}

function stepsTable(steps: readonly ReportStep[]): string {
  const rows = steps
    .map(
      (step) =>
        `<tr class="status-${esc(step.status)}"><td>${esc(step.name)}</td><td>${esc(step.status)}</td><td>${esc(step.started_at ?? '')}</td><td class="num">${esc(step.duration_ms ?? '')}</td><td>${fieldsHtml(step.detail)}</td></tr>`,
    )
    .join('\n');
  return `<h2>Steps</h2>
<table><thead><tr><th>step</th><th>status</th><th>started</th><th>ms</th><th>detail</th></tr></thead>
<tbody>${rows}</tbody></table>`;
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
      return `<tr><td class="num">${call.index}</td><td>${esc(call.name)}${fieldsHtml(call.arguments)}${answers}</td><td>${esc(call.tool)}</td>
<td class="num">${LANES.map((lane) => esc(call.duration_ms[lane])).join(' / ')}</td>
<td>${LANES.map((lane) => (call.is_error[lane] ? 'error' : 'ok')).join(' / ')}</td>
<td class="num">${call.reported}</td><td class="num">${call.cancelled}</td></tr>`;
    })
    .join('\n');
  return `<table><thead><tr><th>#</th><th>call</th><th>tool</th><th>ms (baseline / replica / candidate)</th><th>result</th><th>reported</th><th>cancelled</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

function noiseTable(result: ShadowResult): string {
  const { noise } = result;
  const head = `<p>Samples: lanes ${esc(noise.lanes.join(', '))}; ${noise.repeats} repeated read-only answer(s); ${noise.samples} sample answer(s) in all.</p>`;
  if (noise.paths.length === 0) return `${head}<p>No noisy paths learned.</p>`;
  const rows = noise.paths
    .map((p) => `<tr><td>${esc(p.tool)}</td><td><code>${esc(p.path)}</code></td><td>${esc(p.kinds.join(', '))}</td><td class="num">${esc(p.magnitude ?? '')}</td><td class="num">${p.seen}</td></tr>`)
    .join('\n');
  return `${head}<table><thead><tr><th>tool</th><th>path</th><th>kinds</th><th>largest numeric difference</th><th>seen</th></tr></thead><tbody>${rows}</tbody></table>`;
}


const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d2330;max-width:1400px}
h1{font-size:1.5rem}h2{margin-top:2rem;border-bottom:1px solid #d7dbe3}h3{margin-bottom:.3rem}
#summary{font-size:1.05rem;padding:.6rem .8rem;border-radius:4px;background:#f7f8fa}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #d7dbe3;padding:.3rem .5rem;text-align:left;vertical-align:top}
thead th{background:#f1f3f7}table.summary{width:auto}table.summary th{background:#f7f8fa}
table.examples{margin:0}table.examples td,table.examples th{font-size:12px}
pre{margin:0;white-space:pre-wrap;word-break:break-word;font:12px/1.35 ui-monospace,Menlo,Consolas,monospace;max-height:24rem;overflow:auto}
code{font:12px ui-monospace,Menlo,Consolas,monospace}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:0 .8rem;margin:.2rem 0;font-size:12px}
dl.fields dt{color:#5b6475}dl.fields dd{margin:0;word-break:break-word}
ul.paths{margin:0;padding-left:1.1rem}li.error{color:#8a4b00}
.num{text-align:right}.args,.kind,.reason{color:#5b6475;font-size:12px;word-break:break-word}
.absent{color:#8a93a5;font-style:italic}
.ok{color:#17663a;font-weight:600}.warn{color:#8a4b00;font-weight:600}
.verdict-regression td:first-child{border-left:3px solid #c0392b}.verdict-addition td:first-child{border-left:3px solid #2e6fd8}
.status-warning td{background:#fff7e6}.status-failed td{background:#fdecec}
details.noise{margin-top:1.5rem}details.noise>summary{cursor:pointer;font-weight:600}
.side{display:grid;grid-template-columns:repeat(3,1fr);gap:.5rem}.side h4{margin:.3rem 0}
footer{margin-top:2rem;color:#5b6475;font-size:12px}
`;
