import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { collectRoutes, routeHint } from '../../controller/src/api/route-list.js';

describe('the 404 hint route list', () => {
  it('is what fastify registered, routes added later and in plugins included, one entry per path', async () => {
    const app = Fastify();
    const routes = collectRoutes(app);
    app.get('/b', async () => 'b');
    app.post('/b', async () => 'b');
    await app.register(async (child) => {
      child.get('/a/:id', async () => 'a');
    });
    await app.ready();
    expect(routeHint(routes())).toBe('routes: GET /a/:id; GET|POST /b');
    await app.close();
  });
});
