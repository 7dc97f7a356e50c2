import { join } from 'node:path';
import { WvoError } from '../../../common/src/errors.js';
import { readJsonFile } from '../../../common/src/json-file.js';
import { stepsFileSchema, type StepsFile } from '../harness/index.js';
import {
  parsePromotionOptions,
  type DeploymentRecord,
  type DeploymentState,
  type DeploymentStore,
} from '../promotion/index.js';
import type { LaneInfo, LaneRuntime, RuntimeKind } from '../runtime/index.js';
import { unavailablePromotion, type PromotionFunctions } from './promotion-functions.js';
import { readUpgradeShadowSummary } from '../shadow/index.js';
import type { ProxyLanes } from './deploy-operations.js';
import { collectStatus, deploymentStep, type ControllerStatus } from './status.js';
import { collectStatusPage, shadowReportFile, type StatusPageData } from './status-page-data.js';
import type { UpgradeRunner } from './upgrade-runner.js';
import { operationsErrors } from './errors.js';

export interface DeploymentView extends DeploymentRecord {
  /** What it is doing, in one line (same as `wvo status`). */
  step: string;
  /**
   * True while this controller still drives it in the background. The record is write-ahead:
   * `promoted` is committed before the old lane is stopped, so "promoted and stopped" is
   * `state: 'promoted', settling: false`.
   */
  settling: boolean;
}

export interface TransitionView {
  seq: number;
  from: DeploymentState;
  to: DeploymentState;
  event: string;
  reason: string;
  at: string;
  effects: unknown[];
}

export interface UpgradeView extends StepsFile {
  /** True while this controller runs it (steps.json may not exist yet during preflight). */
  running: boolean;
}

/**
 * The controller's operations, one method per API route family. The HTTP server only parses
 * and answers; the same options types as the CLI are validated here (STYLE habit 3).
 */
export interface ControllerOperations {
  listLanes(): Promise<{ runtime: RuntimeKind; lanes: LaneInfo[] }>;
  listDeployments(): { running: string | null; deployments: DeploymentView[] };
  getDeployment(id: string): { deployment: DeploymentView; transitions: TransitionView[] };
  /** Body = the upgrade options (`upgradeOptionsSchema`). Answers once started; runs in the background. */
  startUpgrade(input: unknown): { id: string; started_at: string };
  getUpgrade(id: string): UpgradeView;
  /** `id` = the staged upgrade to promote (`latest`: the newest); body = the promotion options. */
  promote(id: string, input: unknown): Promise<{ deployment: DeploymentView; background: boolean }>;
  rollback(id: string, input: unknown): Promise<{ deployment: DeploymentView; background: boolean }>;
  status(): Promise<ControllerStatus>;
  /** What the live status page shows (read-only). */
  statusPage(): Promise<StatusPageData>;
  /** The last upgrade's report.html (the file upgrade_shadow.json points next to); undefined when none. */
  lastShadowReport(): Promise<string | undefined>;
}

export interface OperationsDeps {
  projectRoot: string;
  stateRoot: string;
  runtime: LaneRuntime;
  store: DeploymentStore;
  upgrades: UpgradeRunner;
  /** The proxy admin client when one is configured: status reads the active lane from its routes. */
  proxy?: ProxyLanes;
  promotion?: PromotionFunctions;
  /** A background promotion ended in an error (logged and published by the caller). */
  onPromotionError?: (deploymentId: string, error: unknown) => void;
  /** A background promotion ended (after its last effects), in `state`. */
  onPromotionSettled?: (deploymentId: string, state: DeploymentState) => void;
}

/** Upgrade ids are file names under experiments/mcp/upgrade/: no separators, no `..`. */
const UPGRADE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function badRequest(message: string, subject: string): WvoError {
  return operationsErrors.create('WVO_API_BAD_REQUEST', message, { subject });
}

export function createControllerOperations(deps: OperationsDeps): ControllerOperations {
  const promotion = deps.promotion ?? unavailablePromotion;
  const { store } = deps;
  /** Deployments whose background work (promote's drive) has not ended yet. */
  const settling = new Set<string>();

  function view(record: DeploymentRecord): DeploymentView {
    return { ...record, step: deploymentStep(record), settling: settling.has(record.id) };
  }

  function accepted(result: { deployment: DeploymentRecord; done?: Promise<DeploymentRecord> }) {
    const { id } = result.deployment;
    if (result.done) {
      settling.add(id);
      result.done.then(
        (record) => {
          settling.delete(id);
          deps.onPromotionSettled?.(id, record.state);
        },
        (error: unknown) => {
          settling.delete(id);
          deps.onPromotionError?.(id, error);
        },
      );
    }
    return { deployment: view(result.deployment), background: result.done !== undefined };
  }

  return {
    async listLanes() {
      return { runtime: deps.runtime.kind, lanes: await deps.runtime.listLanes() };
    },

    listDeployments() {
      return { running: store.running()?.id ?? null, deployments: store.list().map(view) };
    },

    getDeployment(id) {
      const deployment = view(store.get(id));
      const transitions = store.transitions(id).map((t) => ({
        seq: t.seq,
        from: t.from,
        to: t.to,
        event: t.event,
        reason: t.reason,
        at: new Date(t.at).toISOString(),
        effects: [...t.effects],
      }));
      return { deployment, transitions };
    },

    startUpgrade(input) {
      const run = deps.upgrades.start(input);
      return { id: run.id, started_at: run.startedAt };
    },

    getUpgrade(id) {
      const notFound = () =>
        operationsErrors.create('WVO_UPGRADE_NOT_FOUND', `no upgrade ${id}`, {
          subject: id,
          hint: 'ids are the names under experiments/mcp/upgrade/ (POST /upgrades answers with one)',
        });
      if (!UPGRADE_ID.test(id)) throw notFound();
      const current = deps.upgrades.current();
      const running = current?.id === id;
      const file = join(deps.projectRoot, 'experiments', 'mcp', 'upgrade', id, 'steps.json');
      try {
        return { ...readJsonFile(file, stepsFileSchema), running };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          if (running) return { id, started_at: current.startedAt, outcome: 'running', steps: [], running };
          throw notFound();
        }
        throw operationsErrors.create('WVO_UPGRADE_STEPS_INVALID', `cannot read ${file}: ${(error as Error).message.split('\n')[0]}`, {
          subject: file,
          hint: 'steps.json is written by `wvo upgrade`; do not edit it by hand (re-run the upgrade)',
          cause: error,
        });
      }
    },

    async promote(id, input) {
      const body = (input ?? {}) as Record<string, unknown>;
      if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('body: expected a JSON object of promotion options', 'body');
      const upgradeId = id === 'latest' ? undefined : id;
      if (body.upgradeId !== undefined && body.upgradeId !== upgradeId) {
        throw badRequest(`body.upgradeId ${JSON.stringify(body.upgradeId)} differs from the path's ${id}`, 'upgradeId');
      }
      const options = parsePromotionOptions({ ...body, ...(upgradeId ? { upgradeId } : {}) });
      return accepted(await promotion.promote(options));
    },

    async rollback(id, input) {
      const body = (input ?? {}) as Record<string, unknown>;
      if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('body: expected {reason?: string}', 'body');
      const unknown = Object.keys(body).find((k) => k !== 'reason');
      if (unknown) throw badRequest(`body.${unknown}: unknown field (expected {reason?: string})`, unknown);
      if (body.reason !== undefined && typeof body.reason !== 'string') throw badRequest('body.reason: expected a string', 'reason');
      store.get(id); // WVO_DEPLOYMENT_NOT_FOUND before anything is asked of promotion
      const reason = (body.reason as string | undefined) ?? 'rollback requested through the controller API';
      return accepted(await promotion.rollback({ id, reason }));
    },

    status() {
      return collectStatus({ stateRoot: deps.stateRoot, runtime: deps.runtime, store, ...(deps.proxy ? { proxy: deps.proxy } : {}) });
    },

    statusPage() {
      return collectStatusPage({ projectRoot: deps.projectRoot, stateRoot: deps.stateRoot, runtime: deps.runtime, store, ...(deps.proxy ? { proxy: deps.proxy } : {}) });
    },

    async lastShadowReport() {
      const summary = await readUpgradeShadowSummary(deps.stateRoot);
      return summary ? shadowReportFile(deps.projectRoot, summary.path) : undefined;
    },
  };
}
