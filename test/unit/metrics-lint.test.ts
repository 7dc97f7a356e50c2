import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { ProxyMetrics } from '../../controller/src/proxy/metrics.js';
import { ControllerMetrics } from '../../controller/src/telemetry/controller-metrics.js';
import { seedState, startWorker, type WorkerHandle } from '../../worker/src/index.js';

/**
 * The dashboard and the alert rules must name metrics that exist: the names come from the real
 * registries (the controller's, the proxy's, and a running worker's /metrics), not from grepping
 * the code, so renaming a metric in code without the dashboard (or the other way round) fails here.
 */
const COMPOSE = join(import.meta.dirname, '..', '..', 'compose');

/** Every series name a Prometheus text exposition can produce (histogram and summary parts included). */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

/** Metric names a PromQL expression reads (label values and function names left out). */
function metricNames(expr: string): string[] {
  return [...expr.replace(/"[^"]*"/g, '""').matchAll(/\b(wvo_[a-z0-9_]+|up)\b(?!\s*\()/g)].map((m) => m[1]!);
}

function dashboardExprs(dashboard: { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> }): Array<[string, string]> {
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => [p.title, t.expr] as [string, string]));
}

function ruleExprs(rules: { groups: Array<{ rules: Array<{ alert?: string; record?: string; expr: string }> }> }): Array<[string, string]> {
  return rules.groups.flatMap((g) => g.rules.map((r) => [r.alert ?? r.record ?? '?', r.expr] as [string, string]));
}

/** `where: unknown_metric` for every name no registry exposes. */
function unknownMetrics(exprs: Array<[string, string]>, known: Set<string>): string[] {
  return exprs.flatMap(([where, expr]) => metricNames(expr).filter((n) => !known.has(n)).map((n) => `${where}: ${n}`));
}

let dir: string;
let worker: WorkerHandle;
let known: Set<string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wvo-metrics-lint-'));
  await seedState({ stateRoot: dir, tasks: 5, seed: 1 });
  worker = await startWorker({ stateRoot: dir, port: 0 });
  const workerText = await (await fetch(`${worker.url}/metrics`)).text();
  const proxy = new ProxyMetrics({ lanes: () => [] });
  known = new Set(['up', ...exposedNames(await new ControllerMetrics().text()), ...exposedNames(await proxy.text()), ...exposedNames(workerText)]);
});
afterAll(async () => {
  await worker?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('metrics lint: compose/ names only metrics the registries expose', () => {
  const dashboard = JSON.parse(readFileSync(join(COMPOSE, 'grafana/dashboards/wvo.json'), 'utf8'));
  const rules = YAML.parse(readFileSync(join(COMPOSE, 'alert-rules.yml'), 'utf8'));

  it('every metric in the Grafana dashboard exists', () => {
    const exprs = dashboardExprs(dashboard);
    expect(exprs.length).toBeGreaterThan(5);
    expect(unknownMetrics(exprs, known)).toEqual([]);
  });

  it('every metric in the alert rules exists (the shadow-diff streak included)', () => {
    const exprs = ruleExprs(rules);
    expect(exprs.map(([, e]) => e).join('\n')).toContain('wvo_shadow_diff_consecutive_runs');
    expect(unknownMetrics(exprs, known)).toEqual([]);
  });

  it('fails on a rename: a metric renamed on one side only is reported with where it is used', () => {
    const renamed = JSON.parse(JSON.stringify(dashboard).replaceAll('wvo_proxy_requests_total', 'wvo_proxy_request_total'));
    expect(unknownMetrics(dashboardExprs(renamed), known)).toContain('Request rate per lane: wvo_proxy_request_total');
    const withoutStreak = new Set([...known].filter((n) => n !== 'wvo_shadow_diff_consecutive_runs'));
    expect(unknownMetrics(ruleExprs(rules), withoutStreak)).toEqual(['WvoShadowDiffsRepeated: wvo_shadow_diff_consecutive_runs']);
  });
});
