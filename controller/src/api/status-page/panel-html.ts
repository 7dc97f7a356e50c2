import type { StatusPageData } from '../../operations/index.js';
import type { IntervalRecord } from '../../promotion/index.js';
import { escapeHtml as esc } from '../../shadow/index.js';
import { lineChart, type ChartSeries } from './svg-chart.js';

const CANDIDATE = '#d9480f';
const BASELINE = '#1c7ed6';
const VERDICT_COLOR: Record<string, string> = { pass: '#2b8a3e', marginal: '#e67700', fail: '#c92a2a', insufficient: '#868e96' };

type Deployment = NonNullable<StatusPageData['deployment']>;

function lanesTable(data: StatusPageData): string {
  if (data.lanes.length === 0) return '<p class="muted">No lanes.</p>';
  const active = data.active?.lane;
  const rows = data.lanes.map(
    (l) =>
      `<tr data-lane="${esc(l.name)}"${l.name === active ? ' class="active"' : ''}><td>${esc(l.name)}${l.name === active ? ' <b>(active)</b>' : ''}</td><td>${esc(l.host)}</td><td>${esc(l.role)}</td><td>${esc(l.mode)}</td><td>${esc(l.status)}</td><td>${esc(l.image)}</td><td>${esc(l.url ?? '')}</td></tr>`,
  );
  return `<table id="lanes"><thead><tr><th>lane</th><th>host</th><th>role</th><th>mode</th><th>status</th><th>image</th><th>url</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** One point per interval for the checks of `metric` (and `subject`), candidate and baseline side by side. */
function pairSeries(analyses: IntervalRecord[], metric: string, subject: string | undefined, scale: number, d: Deployment): ChartSeries[] {
  const pick = (a: IntervalRecord) => a.checks.find((c) => c.metric === metric && c.subject === subject);
  const side = (key: 'candidate' | 'baseline'): ChartSeries['points'] =>
    analyses.map((a) => {
      const v = pick(a)?.[key];
      return { x: a.at, y: v === undefined ? null : v * scale };
    });
  return [
    { name: `${d.candidate} (candidate)`, color: CANDIDATE, points: side('candidate') },
    { name: `${d.baseline} (baseline)`, color: BASELINE, points: side('baseline') },
  ];
}

function subjects(analyses: IntervalRecord[], metric: string): string[] {
  return [...new Set(analyses.flatMap((a) => a.checks.filter((c) => c.metric === metric && c.subject !== undefined).map((c) => c.subject!)))].sort();
}

function charts(d: Deployment): string {
  const a = d.analyses;
  if (a.length === 0) return '<p class="muted" id="no-intervals">No interval analysed yet.</p>';
  const score = lineChart(
    [
      {
        name: 'score',
        color: '#495057',
        points: a.map((i) => ({ x: i.at, y: i.score, title: `${i.weight}% ${i.state}: ${i.verdict}${i.score === null ? '' : ` ${i.score}`}` })),
      },
    ],
    {
      title: 'analysis score per interval',
      yMin: 0,
      yMax: 100,
      rules: [
        { y: d.thresholds.pass, label: `pass ≥ ${d.thresholds.pass}`, color: VERDICT_COLOR.pass! },
        { y: d.thresholds.marginal, label: `marginal ≥ ${d.thresholds.marginal}`, color: VERDICT_COLOR.marginal! },
      ],
    },
  );
  const latency = subjects(a, 'tool_latency').map((tool) => lineChart(pairSeries(a, 'tool_latency', tool, 1000, d), { title: `${tool} median latency`, unit: 'ms' }));
  // Error rates only where some interval saw an error on either lane: flat zero lines say nothing.
  const errorTools = subjects(a, 'tool_errors').filter((tool) =>
    a.some((i) => i.checks.some((c) => c.metric === 'tool_errors' && c.subject === tool && ((c.candidate ?? 0) > 0 || (c.baseline ?? 0) > 0))),
  );
  const errors = errorTools.map((tool) => lineChart(pairSeries(a, 'tool_errors', tool, 100, d), { title: `${tool} error rate`, unit: '%' }));
  return [
    `<div class="charts" id="score-chart">${score}</div>`,
    `<h3>Candidate vs baseline</h3><div class="charts" id="latency-charts">${latency.join('') || '<p class="muted">No latency compared yet.</p>'}</div>`,
    `<div class="charts" id="error-charts">${errors.join('') || '<p class="muted">No tool errors on either lane.</p>'}</div>`,
  ].join('');
}

function deploymentSection(d: StatusPageData['deployment']): string {
  if (!d) return '<section id="deployment"><h2>Deployment</h2><p class="muted">No deployment yet.</p></section>';
  const last = d.analyses.at(-1);
  const steps = d.canary_steps
    .map((w) => `<li${w === d.weight && d.state !== 'rolled_back' ? ' class="current"' : ''}>${w}%</li>`)
    .join('');
  const verdict = last
    ? `<p id="verdict">last interval (${last.weight}%, ${esc(last.comparison)}): <b style="color:${VERDICT_COLOR[last.verdict] ?? '#000'}">${esc(last.verdict)}</b>${last.score === null ? '' : ` score <b id="score">${last.score}</b>`}, gates ${esc(last.gates)}</p>` +
      (last.reasons.length ? `<ul class="reasons">${last.reasons.slice(0, 5).map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : '')
    : '';
  return [
    `<section id="deployment" data-id="${esc(d.id)}" data-state="${esc(d.state)}" data-weight="${d.weight}">`,
    `<h2>Deployment ${esc(d.id)} <span class="state state-${esc(d.state)}" id="state">${esc(d.state)}</span></h2>`,
    `<p>upgrade ${esc(d.upgrade_id)}: ${esc(d.baseline)} → ${esc(d.candidate)}</p>`,
    `<p id="step">${esc(d.step)}</p>`,
    `<div class="split" title="share of new sessions"><div class="cand" style="width:${d.weight}%">${d.weight > 0 ? `${esc(d.candidate)} ${d.weight}%` : ''}</div><div class="base">${d.weight < 100 ? `${esc(d.baseline)} ${100 - d.weight}%` : ''}</div></div>`,
    `<ol class="steps" id="canary-steps">${steps}</ol>`,
    d.rollback_reason ? `<p id="rollback-reason">rollback: ${esc(d.rollback_reason)}</p>` : '',
    verdict,
    charts(d),
    '</section>',
  ].join('');
}

function shadowSection(s: StatusPageData['shadow']): string {
  if (!s) return '<section id="shadow"><h2>Last shadow</h2><p class="muted">No upgrade has run a shadow yet.</p></section>';
  const link = s.report ? ` <a id="report-link" href="/ui/report">open report.html</a>` : ' (report not found)';
  return `<section id="shadow"><h2>Last shadow</h2><p><b id="shadow-count">${s.count}</b> reported difference${s.count === 1 ? '' : 's'}, recorded ${esc(s.recorded_at)} (${esc(s.path)})${link}</p></section>`;
}

/** Pure: the page's live panel (everything but the event list), re-fetched when something moves. */
export function renderStatusPanel(data: StatusPageData): string {
  const active = data.active ? `${esc(data.active.lane)}${data.active.version ? ` (${esc(data.active.version)})` : ''}` : 'unknown';
  const warnings = data.warnings.length
    ? `<ul class="warnings">${data.warnings.map((w) => `<li>${esc(w.source)}: ${esc(w.code)} ${esc(w.message)}</li>`).join('')}</ul>`
    : '';
  return [
    `<p class="muted" id="generated">runtime ${esc(data.runtime)}; active lane <b id="active-lane">${active}</b>; as of ${esc(data.generated_at)}</p>`,
    warnings,
    `<section><h2>Lanes and hosts</h2>${lanesTable(data)}</section>`,
    deploymentSection(data.deployment),
    shadowSection(data.shadow),
  ].join('');
}
