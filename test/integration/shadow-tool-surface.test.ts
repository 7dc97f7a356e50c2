import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { compareSurfaces } from '../../controller/src/shadow/tool-surface.js';
import { fetchToolSurface } from '../../controller/src/shadow/tool-surface-fetch.js';
import { startFixtureServer } from '../fixtures/mcp-fixture-server.js';
import { surfaceV1, surfaceV2 } from '../fixtures/surface-fixtures.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function lane(extend?: Parameters<typeof startFixtureServer>[0]['extend']) {
  const server = await startFixtureServer({ lane: 'x', ...(extend ? { extend } : {}) });
  cleanups.push(() => server.close());
  return server;
}

describe('tool-surface gate against real MCP servers', () => {
  it('fetches the four lists with the SDK client and classifies the real differences of two versions', async () => {
    const [v1, v2] = await Promise.all([lane(surfaceV1), lane(surfaceV2)]);
    const [before, after] = await Promise.all([fetchToolSurface(v1.url), fetchToolSurface(v2.url)]);
    expect(before.tools.length).toBeGreaterThan(3);
    expect([before.prompts.length, before.resources.length, before.resourceTemplates.length]).toEqual([1, 1, 1]);
    const report = compareSurfaces(before, after);
    expect(report.changes.map((c) => `${c.category} ${c.kind} ${c.path}`).sort()).toEqual([
      'additive prompt $.prompts.summarize.arguments.style',
      "additive resource_template $.resourceTemplates['log://{day}']",
      'additive tool $.tools.export',
      'additive tool $.tools.search.inputSchema.properties.lang',
      'breaking resource $.resources[\'file:///config.json\'].mimeType',
      'breaking tool $.tools.delete_item.annotations.destructiveHint',
      'breaking tool $.tools.legacy',
      'informational tool $.tools.search.description',
    ]);
    expect(report).toMatchObject({ breaking: 3, additive: 4, informational: 1 });
    // the sessions the fetch opened were closed
    expect(v1.sessionCount() + v2.sessionCount()).toBe(0);
  });

  it('a server without prompts or resources gives empty lists, not an error', async () => {
    const plain = await lane();
    const surface = await fetchToolSurface(`${plain.url}/mcp`);
    expect(surface.tools.map((t) => (t as { name: string }).name)).toContain('whoami');
    expect([surface.prompts, surface.resources, surface.resourceTemplates]).toEqual([[], [], []]);
  });

  it('an invalid JSON Schema in tools/list is a coded error naming the tool and field', async () => {
    const broken = await lane((server) => {
      // Answer tools/list by hand, as a server with a hand-written schema would.
      server.server.setRequestHandler(ListToolsRequestSchema, () => ({
        tools: [{ name: 'lookup', inputSchema: { type: 'object', properties: { key: { type: 'text' } } } }],
      }));
    });
    const surface = await fetchToolSurface(broken.url);
    expect(() => compareSurfaces(surface, surface)).toThrow(
      expect.objectContaining({ code: 'WVO_SHADOW_SCHEMA_INVALID', details: { side: 'baseline', tool: 'lookup', field: 'inputSchema.properties.key.type' } }),
    );
  });

  it('a server that answers HTML is WVO_SHADOW_SURFACE_UNREACHABLE saying it is not MCP', async () => {
    const server = createServer((_req, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await expect(fetchToolSurface(url)).rejects.toMatchObject({ code: 'WVO_SHADOW_SURFACE_UNREACHABLE', message: expect.stringContaining('is not an MCP server') });
  });
});
