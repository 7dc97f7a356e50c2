import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatHealthSpec, parseHealthSpec } from '../../controller/src/proxy/health-spec.js';
import { validateLane } from '../../controller/src/proxy/options.js';
import { loadRouteTable } from '../../controller/src/proxy/route-table.js';
import { listChangedEvents, listChangedMethods, digestSurface } from '../../controller/src/proxy/surface-digest.js';

describe('health spec', () => {
  it('parses HTTP paths and MCP specs, and prints them back canonically', () => {
    expect(parseHealthSpec('/readyz', '--health')).toEqual({ kind: 'http', path: '/readyz' });
    expect(parseHealthSpec('http:/healthz', '--health')).toEqual({ kind: 'http', path: '/healthz' });
    expect(parseHealthSpec('mcp', '--health')).toEqual({ kind: 'mcp', path: '/mcp' });
    expect(parseHealthSpec(' mcp:/v1/mcp ', '--health')).toEqual({ kind: 'mcp', path: '/v1/mcp' });
    for (const text of ['/readyz', 'mcp', 'mcp:/v1/mcp']) expect(formatHealthSpec(parseHealthSpec(text, 'f'))).toBe(text);
    expect(formatHealthSpec(parseHealthSpec('http:/x', 'f'))).toBe('/x');
    expect(formatHealthSpec(parseHealthSpec('mcp:/mcp', 'f'))).toBe('mcp');
  });

  it('rejects bad specs with a code naming the field', () => {
    for (const bad of ['readyz', 'mcp:', 'mcp:mcp', 'http:', '/a b', '', 'grpc:/x', 42]) {
      expect(() => parseHealthSpec(bad, 'health'), String(bad)).toThrow(expect.objectContaining({ code: 'WVO_PROXY_HEALTH_INVALID', subject: 'health' }));
    }
  });

  it('a lane keeps its own health spec (canonical); without one it has none', () => {
    expect(validateLane({ name: 'a', url: 'http://127.0.0.1:1/x', health: 'mcp:/mcp' })).toEqual({ name: 'a', url: 'http://127.0.0.1:1', health: 'mcp' });
    expect(validateLane({ name: 'a', url: 'http://127.0.0.1:1' })).toEqual({ name: 'a', url: 'http://127.0.0.1:1' });
  });

  it('route tables with and without per-lane health load', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wvo-proxy-health-'));
    try {
      const path = join(dir, 'routes.json');
      const lanes = [{ name: 'blue', url: 'http://127.0.0.1:1' }, { name: 'third', url: 'http://127.0.0.1:2', health: 'mcp' }];
      await writeFile(path, JSON.stringify({ version: 1, active: 'blue', lanes, updated_at: '2026-01-01T00:00:00.000Z' }));
      expect((await loadRouteTable(path))?.lanes).toEqual(lanes);
      await writeFile(path, JSON.stringify({ version: 1, active: 'blue', lanes: [lanes[0]], updated_at: '2026-01-01T00:00:00.000Z' }));
      expect((await loadRouteTable(path))?.lanes).toEqual([lanes[0]]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('surface digest', () => {
  const tool = (name: string, extra: Record<string, unknown> = {}) => ({ name, inputSchema: { type: 'object', properties: {} }, ...extra });
  const lists = (tools: unknown[]) => ({ tools, prompts: [], resources: [], resourceTemplates: [] });

  it('is blind to order (of items and of keys) and sees any change', () => {
    const a = digestSurface(lists([tool('a'), tool('b', { description: 'x' })]));
    const b = digestSurface(lists([{ description: 'x', inputSchema: { properties: {}, type: 'object' }, name: 'b' }, tool('a')]));
    expect(b).toEqual(a);
    const c = digestSurface(lists([tool('a'), tool('b', { description: 'y' })]));
    expect(c.tools).not.toBe(a.tools);
    expect(c.prompts).toBe(a.prompts);
  });

  it('owes list_changed per differing list; nothing when a surface is unknown', () => {
    const a = digestSurface(lists([tool('a')]));
    const b = digestSurface({ ...lists([tool('b')]), resourceTemplates: [{ uriTemplate: 'x://{id}', name: 'x' }] });
    expect(listChangedMethods(a, a)).toEqual([]);
    expect(listChangedMethods(a, b)).toEqual(['notifications/tools/list_changed', 'notifications/resources/list_changed']);
    expect(listChangedMethods(undefined, b)).toEqual([]);
    expect(listChangedEvents(['notifications/tools/list_changed']).toString()).toBe(
      'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/tools/list_changed"}\n\n',
    );
  });
});
