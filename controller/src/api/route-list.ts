import type { FastifyInstance } from 'fastify';

/** One registered route: what the 404 hint names. */
export interface RouteEntry {
  method: string;
  url: string;
}

/**
 * The routes fastify actually registered, collected by an `onRoute` hook, so the 404 hint names
 * every route and cannot go stale. Add before the routes; HEAD twins of GET routes are left out.
 */
export function collectRoutes(app: FastifyInstance): () => readonly RouteEntry[] {
  const routes: RouteEntry[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') routes.push({ method, url: route.url });
    }
  });
  return () => routes;
}

/** Pure: `GET /deployments; GET|POST /fleets; ...`, one entry per path, in path order. */
export function routeHint(routes: readonly RouteEntry[]): string {
  const byUrl = new Map<string, Set<string>>();
  for (const { method, url } of routes) byUrl.set(url, (byUrl.get(url) ?? new Set()).add(method));
  const entries = [...byUrl].sort(([a], [b]) => a.localeCompare(b)).map(([url, methods]) => `${[...methods].sort().join('|')} ${url}`);
  return `routes: ${entries.join('; ')}`;
}
