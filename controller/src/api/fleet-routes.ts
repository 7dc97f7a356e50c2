import type { FastifyInstance } from 'fastify';
import { fleetErrors, type FleetControl } from '../fleet/index.js';

/**
 * The fleet over HTTP (the CLI's `promote --fleet`, `resume --fleet`, `status --fleet`):
 * POST /fleets begins a fleet promotion and answers 202 at once with its record (refusals of bad
 * input are 400 before anything starts); GET /fleets/:id follows it.
 */
export function registerFleetRoutes(app: FastifyInstance, fleet: (() => FleetControl) | undefined): void {
  const control = (): FleetControl => {
    if (!fleet) throw fleetErrors.create('WVO_FLEET_EMPTY', 'this controller has no fleet configured', { subject: 'fleet.deployments', hint: 'add a fleet section to wvo.config.json and restart wvo serve' });
    return fleet();
  };
  app.get('/fleets', async () => {
    const { store } = control();
    return { ok: true, running: store.running() ?? null, fleets: store.list() };
  });
  app.get('/fleets/status', async () => ({ ok: true, ...(await control().status()) }));
  app.get<{ Params: { id: string } }>('/fleets/:id', async (request) => ({ ok: true, fleet: control().store.get(request.params.id) }));
  app.post('/fleets', async (request, reply) => {
    const begun = await control().runner.begin(request.body ?? {});
    return reply.code(202).header('location', `/fleets/${begun.fleet.id}`).send({ ok: true, fleet: begun.fleet });
  });
  app.post<{ Params: { id: string } }>('/fleets/:id/resume', async (request, reply) => {
    const { runner, store } = control();
    store.get(request.params.id);
    const done = runner.resume(request.params.id);
    done.catch(() => undefined);
    return reply.code(202).send({ ok: true, fleet: store.get(request.params.id) });
  });
}
