import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { WvoError, isWvoError } from '../../../common/src/errors.js';
import { systemClock } from '../../../common/src/clock.js';
import { silentLogger, type Logger } from '../../../common/src/logger.js';
import {
  openController,
  operationsErrors,
  type ControllerContext,
  type ControllerOperations,
  type EventBus,
  type SoakDriver,
} from '../operations/index.js';
import type { DeploymentStore } from '../promotion/index.js';
import type { ControllerMetrics } from '../telemetry/index.js';
import { bearerChecker } from './auth.js';
import { collectRoutes } from './route-list.js';
import { errorBody, httpStatusFor, notFound, unauthorized } from './http-errors.js';
import { parseServeOptions, type ServeOptions, type ServeOptionsInput } from './serve-options.js';
import { SseHub } from './sse.js';
import { STATUS_PAGE_ROUTES, registerStatusPage } from './status-page/routes.js';
import { FleetReconcileLoop, type FleetControl } from '../fleet/index.js';
import { registerFleetRoutes } from './fleet-routes.js';
import { apiErrors } from './errors.js';

/** Routes that answer without a token: container healthchecks and the read-only status page. */
const OPEN_ROUTES = new Set<string>(['/healthz', ...STATUS_PAGE_ROUTES]);

export interface ControllerApiDeps {
  operations: ControllerOperations;
  bus: EventBus;
  metrics: ControllerMetrics;
  /** The soak routes (`wvo serve` always has them). */
  soaks?: SoakDriver;
  logger?: Logger;
  /** The fleet (config `fleet`), opened on first use; without it the /fleets routes answer WVO_FLEET_EMPTY. */
  fleet?: () => FleetControl;
}

/** fastify's own client errors (bad JSON, body too large, wrong content type) → coded answers. */
function clientError(error: unknown): WvoError | undefined {
  const status = (error as { statusCode?: number }).statusCode;
  if (!status || status >= 500) return undefined;
  const message = (error as Error).message;
  if (status === 413) {
    return apiErrors.create('WVO_API_BODY_TOO_LARGE', message, { subject: 'body', hint: 'send a smaller body (the limit is --body-limit of wvo serve)' });
  }
  return operationsErrors.create('WVO_API_BAD_REQUEST', message, { subject: 'body', hint: 'send a JSON object with content-type application/json' });
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

  const routes = collectRoutes(app);
  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody(notFound(request.method, request.url, routes()))));

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

  registerStatusPage(app, operations, sse);
  registerFleetRoutes(app, deps.fleet);

  // `wvo soak start|status|stop` over HTTP; `:id` may be `current` (the running soak, else the newest).
  const soaks = deps.soaks;
  if (soaks) {
    app.post('/soaks', async (request, reply) => {
      const started = await soaks.start(request.body ?? {});
      return reply.code(202).header('location', `/soaks/${started.soak.id}`).send({ ok: true, ...started });
    });
    app.get<{ Params: { id: string } }>('/soaks/:id', async (request) => ({ ok: true, ...soaks.status(request.params.id) }));
    app.post<{ Params: { id: string } }>('/soaks/:id/stop', async (request) => ({ ok: true, soak: await soaks.stop(request.params.id) }));
  }

  return { app, sse };
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

/** `wvo serve`: open the controller (controller.db, operations, loops), serve its API, and listen. */
export async function startController(input: ServeOptionsInput, context: ControllerContext, extras: { fleet?: () => FleetControl } = {}): Promise<RunningController> {
  const options = parseServeOptions(input);
  const logger = context.logger ?? silentLogger();
  const controller = openController(context, { deploymentPollMs: options.deploymentPollMs, reconcileMs: options.reconcileMs });
  const { operations, bus, metrics, store, soaks } = controller;
  const { app } = buildControllerApi(options, { operations, bus, metrics, soaks, logger, ...(extras.fleet ? { fleet: extras.fleet } : {}) });
  // A fleet promotion whose controller died is resumed like a deployment (config `fleet`; off with --no-reconcile).
  const fleet = extras.fleet;
  const fleetLoop = fleet
    ? new FleetReconcileLoop({ running: () => fleet().store.running(), resume: (id) => fleet().runner.resume(id), clock: context.clock ?? systemClock, logger, intervalMs: options.reconcileMs })
    : undefined;
  try {
    controller.watch();
    await app.listen({ host: options.address.host, port: options.address.port });
    controller.reconcile();
    fleetLoop?.start();
  } catch (error) {
    fleetLoop?.stop();
    controller.stopLoops();
    await app.close().catch(() => undefined);
    await controller.close();
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
        fleetLoop?.stop();
        controller.stopLoops();
        await app.close();
        await controller.close();
      })();
      return closing;
    },
  };
}
