import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { toErrorJson } from '../../../common/src/errors.js';
import type { DeploymentRecord, DeploymentState, DeploymentStore, IntervalRecord } from '../promotion/index.js';
import type { LaneRuntime, RuntimeKind } from '../runtime/index.js';
import { REPORT_HTML } from '../shadow/index.js';
import type { ProxyLanes } from './deploy-operations.js';
import { collectStatus, deploymentStep, type ControllerStatus } from './status.js';

/** Intervals the page charts (the newest): enough for a 10-minute window at 6 s. */
export const PAGE_INTERVALS = 120;

/** What the live status page shows (`GET /ui/panel` renders it; `GET /ui/data` answers it). */
export interface StatusPageData {
  generated_at: string;
  runtime: RuntimeKind;
  lanes: Array<{ name: string; host: string; role: string; mode: string; status: string; image: string; url: string | null; deployment: string | null }>;
  active: ControllerStatus['active'];
  deployment: {
    id: string;
    upgrade_id: string;
    state: DeploymentState;
    running: boolean;
    step: string;
    baseline: string;
    candidate: string;
    /** The candidate's share of new sessions now, percent (0 before its first step, 100 after the switch). */
    weight: number;
    /** The plan's weights, e.g. [10, 50, 100]. */
    canary_steps: number[];
    thresholds: { pass: number; marginal: number };
    analyses: IntervalRecord[];
    rollback_reason: string | null;
  } | null;
  /** The last upgrade's shadow result; `report` is true when its report.html can be served. */
  shadow: { count: number; recorded_at: string; path: string; report: boolean } | null;
  warnings: ControllerStatus['warnings'];
}

const WEIGHT_OF: Partial<Record<DeploymentState, number>> = { shadowed: 0, canary_live: 0, switched: 100, observing: 100, promoted: 100, rolled_back: 0 };

/** Pure: the deployment as the page shows it. */
export function deploymentPageView(d: DeploymentRecord): NonNullable<StatusPageData['deployment']> {
  const weight = d.state === 'weighted' ? (d.observation?.weight ?? 0) : (WEIGHT_OF[d.state] ?? d.observation?.weight ?? 0);
  return {
    id: d.id,
    upgrade_id: d.upgradeId,
    state: d.state,
    running: !['promoted', 'rolled_back'].includes(d.state),
    step: deploymentStep(d),
    baseline: d.plan.baseline.lane,
    candidate: d.plan.candidate.lane,
    weight,
    canary_steps: d.plan.canarySteps,
    thresholds: { pass: d.plan.analysis.thresholds.pass, marginal: d.plan.analysis.thresholds.marginal },
    analyses: d.analyses.slice(-PAGE_INTERVALS),
    rollback_reason: d.rollback?.reason ?? null,
  };
}

export interface StatusPageSources {
  projectRoot: string;
  stateRoot: string;
  runtime: LaneRuntime;
  store: DeploymentStore;
  /** The proxy admin client when a proxy is configured (the active lane comes from its routes). */
  proxy?: ProxyLanes;
}

/** The last shadow report's file: next to the shadow.json upgrade_shadow.json names; undefined when absent. */
export function shadowReportFile(projectRoot: string, shadowJsonPath: string): string | undefined {
  const file = join(projectRoot, dirname(shadowJsonPath), REPORT_HTML);
  return existsSync(file) ? file : undefined;
}

/** Read what the page shows: `wvo status`'s sources, the lanes with their hosts, the deployment's intervals. */
export async function collectStatusPage(sources: StatusPageSources): Promise<StatusPageData> {
  const status = await collectStatus({ stateRoot: sources.stateRoot, runtime: sources.runtime, store: sources.store, ...(sources.proxy ? { proxy: sources.proxy } : {}) });
  const warnings = [...status.warnings];
  let lanes: StatusPageData['lanes'] = [];
  try {
    lanes = (await sources.runtime.listLanes()).map((l) => ({
      name: l.name,
      host: l.host,
      role: l.role,
      mode: l.mode,
      status: l.status,
      image: l.image,
      url: l.url ?? null,
      deployment: l.deploymentId ?? null,
    }));
  } catch (error) {
    // collectStatus already warned about the runtime; keep its lanes without hosts.
    if (!warnings.some((w) => w.source === 'runtime')) {
      const json = toErrorJson(error);
      warnings.push({ source: 'runtime', code: String(json.code), message: String(json.message) });
    }
  }
  const record = status.deployment ? sources.store.get(status.deployment.id) : undefined;
  return {
    generated_at: new Date().toISOString(),
    runtime: status.runtime,
    lanes,
    active: status.active,
    deployment: record ? deploymentPageView(record) : null,
    shadow: status.shadow ? { ...status.shadow, report: shadowReportFile(sources.projectRoot, status.shadow.path) !== undefined } : null,
    warnings,
  };
}
