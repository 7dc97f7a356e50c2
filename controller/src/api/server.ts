import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { systemClock, type Clock } from '../../../common/src/clock.js';
import { WvoError, isWvoError } from '../../../common/src/errors.js';
import { silentLogger, type Logger } from '../../../common/src/logger.js';
import type { UpgradeOptions } from '../harness/options.js';
import type { UpgradeContext, UpgradeResult } from '../harness/upgrade.js';
import { DEPLOYMENT_STATES, DeploymentStore, type DeploymentState } from '../promotion/index.js';
import type { LaneRuntime } from '../runtime/lane-runtime.js';
import { readUpgradeShadowSummary } from '../shadow/index.js';
import { ControllerMetrics } from '../telemetry/controller-metrics.js';
import { bearerChecker } from './auth.js';
import { ReconcileLoop } from './reconcile-loop.js';
import { DeploymentWatcher } from './deployment-watcher.js';
import { EventBus } from './event-bus.js';
import { errorBody, httpStatusFor, notFound, unauthorized } from './http-errors.js';
import { createControllerOperations, type ControllerOperations } from './operations.js';
import type { PromotionFunctions } from './promotion-functions.js';
import { parseServeOptions, type ServeOptions, type ServeOptionsInput } from './serve-options.js';
import { SseHub } from './sse.js';
import { UpgradeRunner, type UpgradeRunnerDeps } from './upgrade-runner.js';

/** Routes that answer without a token (container healthchecks). */
const OPEN_ROUTES = new Set(['/healthz']);

export interface ControllerApiDeps {
  operations: ControllerOperations;
  bus: EventBus;
  metrics: ControllerMetrics;
  logger?: Logger;
}

/** fastify's own client errors (bad JSON, body too large, wrong content type) → coded answers. */
function clientError(error: unknown): WvoError | undefined {
  const status = (error as { statusCode?: number }).statusCode;
  if (!status || status >= 500) return undefined;
  const message = (error as Error).message;
  if (status === 413) {
    return new WvoError('WVO_API_BODY_TOO_LARGE', message, { subject: 'body', hint: 'send a smaller body (the limit is --body-limit of wvo serve)' });
  }
  return new WvoError('WVO_API_BAD_REQUEST', message, { subject: 'body', hint: 'send a JSON object with content-type application/json' });
}

/**
 * The controller API (DESIGN §1, §9): the CLI's operations over HTTP. Every route but /healthz
 * needs the bearer token; a refused request is answered 401 before its body is read, so it
 * changes nothing. Errors are `{ok:false, error:{code, message, subject?, hint?}}`.
 */
export function buildControllerApi(options: ServeOptions, deps: ControllerApiDeps): { app: FastifyInstance; sse: SseHub } {
  const { operations, bus, metrics } = deps;
  const logger = deps.logger ?? silentLogger();
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimitBytes });
  const authorized = options.token ? bearerChecker(options.token) : () => true;
  const sse = new SseHub(bus, options.heartbeatMs, (n) => metrics.sseClients.set(n));

  app.addHook('onRequest', async (request, reply) => {
    if (OPEN_ROUTES.has(request.url.split('?')[0]!)) return;
    if (!authorized(request.headers.authorization)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send(errorBody(unauthorized()));
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, code: String(reply.statusCode) });
    metrics.requestDuration.observe({ route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((error, request, reply) => {
    const coded = isWvoError(error) ? error : (clientError(error) ?? error);
    const status = httpStatusFor(coded);
    if (status >= 500) logger.error({ err: error, url: request.url }, 'controller API error');
    return reply.code(status).send(errorBody(coded));
  });

  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody(notFound(request.method, request.url))));

  // Ends SSE streams before the server waits for its connections to close.
  app.addHook('preClose', async () => sse.closeAll());

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.text();
  });

  app.get('/status', async () => ({ ok: true, ...(await operations.status()) }));

  app.get('/lanes', async () => ({ ok: true, ...(await operations.listLanes()) }));

  app.post('/upgrades', async (request, reply) => {
    const started = operations.startUpgrade(request.body);
    return reply.code(202).header('location', `/upgrades/${started.id}`).send({ ok: true, ...started });
  });

  app.get<{ Params: { id: string } }>('/upgrades/:id', async (request) => ({ ok: true, upgrade: operations.getUpgrade(request.params.id) }));

  app.get('/deployments', async () => ({ ok: true, ...operations.listDeployments() }));

  app.get<{ Params: { id: string } }>('/deployments/:id', async (request) => ({ ok: true, ...operations.getDeployment(request.params.id) }));

  app.post<{ Params: { id: string } }>('/deployments/:id/promote', async (request, reply) => {
    const result = await operations.promote(request.params.id, request.body);
    return reply.code(result.background ? 202 : 200).send({ ok: true, deployment: result.deployment });
  });

  app.post<{ Params: { id: string } }>('/deployments/:id/rollback', async (request, reply) => {
    const result = await operations.rollback(request.params.id, request.body);
    return reply.code(result.background ? 202 : 200).send({ ok: true, deployment: result.deployment });
  });

  app.get('/events', (request, reply) => sse.attach(request, reply));

  return { app, sse };
}

/** What `startController` needs besides its options: what `openCliContext` gives the CLI. */
export interface ControllerContext extends Pick<UpgradeContext, 'projectRoot' | 'stateRoot' | 'runtime' | 'images' | 'logger' | 'clock'> {
  /**
   * The promotion executor (see promotion-functions.ts), or a factory given the controller's open
   * store (e.g. `(store) => reconcilerPromotion(new Reconciler({store, runner, clock}))`).
   * Without it promote/rollback answer 501.
   */
  promotion?: PromotionFunctions | ((store: DeploymentStore) => PromotionFunctions);
  /** Prune unused staged images after each completed API upgrade (`upgradePruner`). */
  pruneStaged?: UpgradeRunnerDeps['pruneStaged'];
  /** Every finished API upgrade (e.g. record it in controller.db as a staged upgrade). */
  onUpgradeFinished?: (result: UpgradeResult, options: UpgradeOptions) => void | Promise<void>;
}

export interface RunningController {
  url: string;
  port: number;
  app: FastifyInstance;
  operations: ControllerOperations;
  bus: EventBus;
  metrics: ControllerMetrics;
  store: DeploymentStore;
  /** Stop listening, end SSE streams, wait for a running upgrade, close controller.db. Not the runtime. */
  close(): Promise<void>;
}

function countByState(store: DeploymentStore): Partial<Record<DeploymentState, number>> {
  const counts: Partial<Record<DeploymentState, number>> = {};
  for (const d of store.list(10_000)) counts[d.state] = (counts[d.state] ?? 0) + 1;
  for (const state of DEPLOYMENT_STATES) counts[state] ??= 0;
  return counts;
}

/** `wvo serve`: open controller.db, wire operations, events and metrics, and listen. */
export async function startController(input: ServeOptionsInput, context: ControllerContext): Promise<RunningController> {
  const options = parseServeOptions(input);
  const logger = context.logger ?? silentLogger();
  const clock = context.clock ?? systemClock;
  const store = DeploymentStore.open(context.stateRoot);
  const bus = new EventBus();
  const metrics = new ControllerMetrics(
    () => countByState(store),
    async () => (await readUpgradeShadowSummary(context.stateRoot).catch(() => undefined))?.count,
  );
  const upgrades = new UpgradeRunner({
    projectRoot: context.projectRoot,
    stateRoot: context.stateRoot,
    runtime: context.runtime,
    images: context.images,
    bus,
    metrics,
    logger,
    clock,
    ...(context.onUpgradeFinished ? { onFinished: context.onUpgradeFinished } : {}),
    ...(context.pruneStaged ? { pruneStaged: context.pruneStaged } : {}),
  });
  const promotion = context.promotion ? (typeof context.promotion === 'function' ? context.promotion(store) : context.promotion) : undefined;
  const operations = createControllerOperations({
    projectRoot: context.projectRoot,
    stateRoot: context.stateRoot,
    runtime: context.runtime,
    store,
    upgrades,
    ...(promotion ? { promotion } : {}),
    onPromotionError: (id, error) => {
      logger.error({ err: error, deployment: id }, 'promotion ended in an error');
      bus.publish({ type: 'deployment-error', id, error: errorBody(error).error });
    },
    onPromotionSettled: (id, state) => bus.publish({ type: 'deployment-settled', id, state }),
  });
  const watcher = new DeploymentWatcher(store, bus, options.deploymentPollMs, logger);
  const reconcile = promotion?.resume
    ? new ReconcileLoop({
        store,
        resume: promotion.resume.bind(promotion),
        ...(promotion.housekeeping ? { housekeeping: promotion.housekeeping.bind(promotion) } : {}),
        clock,
        logger,
        intervalMs: options.reconcileMs,
        onError: (id, error) => bus.publish({ type: 'deployment-error', id, error: errorBody(error).error }),
      })
    : undefined;
  const { app } = buildControllerApi(options, { operations, bus, metrics, logger });
  try {
    watcher.start();
    await app.listen({ host: options.address.host, port: options.address.port });
    reconcile?.start();
  } catch (error) {
    watcher.stop();
    await app.close().catch(() => undefined);
    store.close();
    throw error;
  }
  const port = (app.server.address() as AddressInfo).port;
  const host = options.address.host.includes(':') ? `[${options.address.host}]` : options.address.host;
  logger.info({ url: `http://${host}:${port}`, token: Boolean(options.token) }, 'controller API listening');
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    app,
    operations,
    bus,
    metrics,
    store,
    close() {
      closing ??= (async () => {
        watcher.stop();
        reconcile?.stop();
        await app.close();
        await upgrades.idle();
        store.close();
      })();
      return closing;
    },
  };
}
