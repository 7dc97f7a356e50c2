import { describe, expect, it } from 'vitest';
import { renderStatusPage } from '../../controller/src/api/status-page/page-shell.js';
import { renderStatusPanel } from '../../controller/src/api/status-page/panel-html.js';
import { lineChart } from '../../controller/src/api/status-page/svg-chart.js';
import { deploymentPageView, type StatusPageData } from '../../controller/src/operations/index.js';
import type { IntervalRecord } from '../../controller/src/promotion/index.js';
import { recordIn } from './promotion-fixtures.js';

function interval(at: number, score: number, candidateMs: number, baselineMs: number, errors = 0): IntervalRecord {
  return {
    at,
    state: 'weighted',
    weight: 50,
    phase: 0,
    comparison: 'live',
    verdict: score >= 75 ? 'pass' : 'fail',
    score,
    reasons: score >= 75 ? [] : ['tool plan_next is 2.0× slower on the candidate'],
    gates: 'pass',
    checks: [
      { metric: 'tool_latency', subject: 'plan_next', verdict: 'pass', candidate: candidateMs / 1000, baseline: baselineMs / 1000 },
      { metric: 'tool_errors', subject: 'plan_next', verdict: 'pass', candidate: errors, baseline: 0 },
    ],
  };
}

function page(overrides: Partial<StatusPageData> = {}): StatusPageData {
  const record = recordIn('weighted', { steps: '10,50' });
  const deployment = deploymentPageView({ ...record, analyses: [interval(1_000, 100, 200, 190), interval(7_000, 40, 420, 200, 0.2)] });
  return {
    generated_at: '2026-12-05T02:00:00.000Z',
    runtime: 'local',
    lanes: [
      { name: 'blue', host: 'local', role: 'live', mode: 'live', status: 'running', image: 'wvo-worker:v1', url: 'http://127.0.0.1:1', deployment: null },
      { name: 'green', host: 'edge-1', role: 'live', mode: 'live', status: 'running', image: 'wvo-worker:up-1', url: 'http://127.0.0.1:2', deployment: 'dep-1' },
    ],
    active: { lane: 'blue', image: 'wvo-worker:v1', version: '1.0.0', last_switch: null, source: 'proxy' },
    deployment,
    shadow: { count: 2, recorded_at: '2026-12-05T01:00:00.000Z', path: 'experiments/mcp/upgrade/up-1/shadow.json', report: true },
    warnings: [],
    ...overrides,
  };
}

describe('status page: SVG charts', () => {
  it('draws one polyline per unbroken run of points, a dot per point, dashed rules, and breaks at gaps', () => {
    const svg = lineChart(
      [
        { name: 'candidate', color: '#f00', points: [{ x: 0, y: 1 }, { x: 1000, y: 2 }, { x: 2000, y: null }, { x: 3000, y: 3 }, { x: 4000, y: 4 }] },
        { name: 'baseline', color: '#00f', points: [{ x: 0, y: 1 }] },
      ],
      { title: 'latency', unit: 'ms', rules: [{ y: 75, label: 'pass', color: '#0f0' }] },
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline data-series="candidate"/g)).toHaveLength(2);
    expect(svg.match(/<polyline data-series="baseline"/g)).toBeNull(); // one point: a dot, no line
    expect(svg.match(/<circle data-series="candidate"/g)).toHaveLength(4);
    expect(svg).toContain('stroke-dasharray');
    expect(svg).toContain('4 s'); // the time span on the x axis
  });

  it('escapes titles and series names', () => {
    const svg = lineChart([{ name: '<b>x</b>', color: '#000', points: [{ x: 0, y: 1 }] }], { title: '"><script>alert(1)</script>' });
    expect(svg).not.toContain('<script>');
    expect(svg).not.toContain('<b>x</b>');
    expect(svg).toContain('&lt;script&gt;');
  });
});

describe('status page: the panel', () => {
  it('shows lanes with hosts, the deployment, its step and weight, the score and candidate-vs-baseline charts, the shadow link', () => {
    const html = renderStatusPanel(page());
    expect(html).toContain('<tr data-lane="green"><td>green</td><td>edge-1</td>');
    expect(html).toContain('class="active"');
    expect(html).toMatch(/<section id="deployment" data-id="dep-1" data-state="weighted" data-weight="10">/);
    expect(html).toContain('<li class="current">10%</li><li>50%</li>');
    expect(html).toContain('id="score">40<');
    expect(html).toContain('tool plan_next is 2.0× slower on the candidate');
    // Score chart with the plan's thresholds; one latency chart and one error chart for plan_next, both lanes.
    expect(html).toMatch(/id="score-chart"><svg[^>]*aria-label="analysis score per interval"/);
    expect(html).toContain('pass ≥ 75');
    expect(html).toMatch(/id="latency-charts"><svg[^>]*aria-label="plan_next median latency"/);
    expect(html).toContain('data-series="green (candidate)"');
    expect(html).toContain('data-series="blue (baseline)"');
    expect(html).toContain('plan_next error rate');
    expect(html).toContain('<a id="report-link" href="/ui/report">');
  });

  it('says what is missing instead of drawing empty charts; no report link without a report', () => {
    const base = page();
    const quiet = renderStatusPanel(page({ deployment: { ...base.deployment!, analyses: [] }, shadow: { ...base.shadow!, report: false } }));
    expect(quiet).toContain('No interval analysed yet.');
    expect(quiet).not.toContain('<svg');
    expect(quiet).not.toContain('report-link');
    const noErrors = renderStatusPanel(page({ deployment: { ...base.deployment!, analyses: [interval(0, 100, 100, 100)] } }));
    expect(noErrors).toContain('No tool errors on either lane.');
    const empty = renderStatusPanel(page({ lanes: [], deployment: null, shadow: null, active: null }));
    expect(empty).toContain('No deployment yet.');
    expect(empty).toContain('No lanes.');
  });

  it('escapes everything that comes from lanes, reasons and warnings', () => {
    const evil = '<img src=x onerror=alert(1)>';
    const base = page();
    const html = renderStatusPanel(
      page({
        lanes: [{ ...base.lanes[0]!, image: evil }],
        deployment: { ...base.deployment!, rollback_reason: evil },
        warnings: [{ source: evil, code: 'X', message: evil }],
      }),
    );
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('the weight: 0 before the first step, the step weight while weighted, 100 once switched', () => {
    expect(deploymentPageView(recordIn('canary_live', { steps: '10,50' })).weight).toBe(0);
    expect(deploymentPageView(recordIn('weighted', { steps: '25' })).weight).toBe(25);
    expect(deploymentPageView(recordIn('observing')).weight).toBe(100);
    expect(deploymentPageView(recordIn('rolled_back')).weight).toBe(0);
  });

  it('the page embeds the panel and listens on /ui/events for every controller event type', () => {
    const html = renderStatusPage('<p id="x">panel</p>');
    expect(html).toContain('<div id="panel"><p id="x">panel</p></div>');
    expect(html).toContain("new EventSource('/ui/events')");
    expect(html).toContain('"deployment-settled"');
  });
});
