import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { ControllerOperations } from '../../operations/index.js';
import { apiErrors } from '../errors.js';
import type { SseHub } from '../sse.js';
import { renderStatusPage } from './page-shell.js';
import { renderStatusPanel } from './panel-html.js';

/**
 * The live status page's routes. All read-only, so they answer without the token (like
 * /healthz): the page, its panel fragment, the data behind it, the event stream and the last
 * shadow report. Nothing here changes anything.
 */
export const STATUS_PAGE_ROUTES = ['/ui', '/ui/panel', '/ui/data', '/ui/events', '/ui/report'] as const;

/** The report is our own static HTML (inline CSS, no scripts); the header keeps it that way. */
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'";

export function registerStatusPage(app: FastifyInstance, operations: ControllerOperations, sse: SseHub): void {
  app.get('/ui', async (_request, reply) => {
    const panel = renderStatusPanel(await operations.statusPage());
    return reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(renderStatusPage(panel));
  });

  app.get('/ui/panel', async (_request, reply) => {
    const panel = renderStatusPanel(await operations.statusPage());
    return reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(panel);
  });

  app.get('/ui/data', async () => ({ ok: true, ...(await operations.statusPage()) }));

  app.get('/ui/events', (request, reply) => sse.attach(request, reply));

  app.get('/ui/report', async (_request, reply) => {
    const file = await operations.lastShadowReport();
    if (!file) {
      throw apiErrors.create('WVO_STATUS_REPORT_MISSING', 'no shadow report: no upgrade has written one yet', {
        subject: '/ui/report',
        hint: 'run `wvo upgrade`; its report.html is linked here once written',
      });
    }
    const html = await readFile(file, 'utf8');
    return reply.header('content-type', 'text/html; charset=utf-8').header('content-security-policy', REPORT_CSP).send(html);
  });
}
