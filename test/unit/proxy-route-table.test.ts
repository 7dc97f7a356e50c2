import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadRouteTable, saveRouteTable, type RouteTable } from '../../controller/src/proxy/route-table.js';
import { parseDuration, parseLaneFlag, parseListenAddress, resolveProxyOptions } from '../../controller/src/proxy/options.js';
import { silentLogger } from '../../common/src/logger.js';
import { systemClock } from '../../common/src/clock.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wvo-proxy-routes-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const table: RouteTable = {
  version: 1,
  active: 'green',
  lanes: [
    { name: 'blue', url: 'http://127.0.0.1:1' },
    { name: 'green', url: 'http://127.0.0.1:2' },
  ],
  updated_at: '2026-01-01T00:00:00.000Z',
};

describe('route table persistence', () => {
  it('round-trips through temp file + rename and leaves no temp files', async () => {
    const path = join(dir, 'nested', 'routes.json');
    await saveRouteTable(path, table);
    await saveRouteTable(path, { ...table, active: 'blue' });
    expect(await loadRouteTable(path)).toEqual({ ...table, active: 'blue' });
    expect(await readdir(join(dir, 'nested'))).toEqual(['routes.json']);
  });

  it('keeps the weighted canary; a table written before canaries existed still loads (no split)', async () => {
    const path = join(dir, 'routes.json');
    await saveRouteTable(path, { ...table, active: 'blue', canary: { lane: 'green', weight: 30 } });
    expect((await loadRouteTable(path))?.canary).toEqual({ lane: 'green', weight: 30 });
    // byte for byte what the proxy wrote before weighted routing
    await writeFile(path, `${JSON.stringify(table, null, 2)}\n`);
    const old = await loadRouteTable(path);
    expect(old).toEqual(table);
    expect(old?.canary).toBeUndefined();
    await writeFile(path, JSON.stringify({ ...table, canary: { lane: 'green', weight: 101 } }));
    await expect(loadRouteTable(path)).rejects.toMatchObject({ code: 'WVO_PROXY_STATE_INVALID', message: expect.stringContaining('canary.weight') });
  });

  it('missing file → undefined; bad JSON or shape → WVO_PROXY_STATE_INVALID naming the path', async () => {
    expect(await loadRouteTable(join(dir, 'none.json'))).toBeUndefined();
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{nope');
    await expect(loadRouteTable(bad)).rejects.toMatchObject({ code: 'WVO_PROXY_STATE_INVALID', subject: bad });
    await writeFile(bad, JSON.stringify({ ...table, version: 2 }));
    await expect(loadRouteTable(bad)).rejects.toMatchObject({ code: 'WVO_PROXY_STATE_INVALID', message: expect.stringContaining('version') });
  });

  it('a write into an unwritable place fails with a code and keeps the old file', async () => {
    const path = join(dir, 'routes.json');
    await saveRouteTable(path, table);
    await writeFile(join(dir, 'file'), 'x');
    await expect(saveRouteTable(join(dir, 'file', 'routes.json'), table)).rejects.toMatchObject({ code: 'WVO_PROXY_STATE_WRITE_FAILED' });
    expect(JSON.parse(await readFile(path, 'utf8')).active).toBe('green');
  });
});

describe('proxy options', () => {
  it('parses addresses, durations and lanes', () => {
    expect(parseListenAddress('127.0.0.1:8080', '--listen', false)).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 8080 });
    expect(parseListenAddress(':0', '--listen', false)).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('[::1]:9', '--admin', true)).toEqual({ kind: 'tcp', host: '::1', port: 9 });
    expect(parseListenAddress('unix:/tmp/a.sock', '--admin', true)).toEqual({ kind: 'unix', path: '/tmp/a.sock' });
    expect(() => parseListenAddress('unix:/tmp/a.sock', '--listen', false)).toThrow(expect.objectContaining({ code: 'WVO_PROXY_ADDRESS_INVALID' }));
    expect(() => parseListenAddress('host:99999', '--listen', false)).toThrow(expect.objectContaining({ code: 'WVO_PROXY_ADDRESS_INVALID', exitCode: 2 }));
    expect(parseDuration('30s', 'x')).toBe(30_000);
    expect(parseDuration('500ms', 'x')).toBe(500);
    expect(parseDuration('2m', 'x')).toBe(120_000);
    expect(parseDuration('250', 'x')).toBe(250);
    expect(() => parseDuration('soon', '--drain-timeout')).toThrow(expect.objectContaining({ code: 'WVO_PROXY_OPTION_INVALID', subject: '--drain-timeout' }));
    expect(parseLaneFlag('blue=http://127.0.0.1:3000/mcp')).toEqual({ name: 'blue', url: 'http://127.0.0.1:3000' });
    expect(() => parseLaneFlag('blue')).toThrow(expect.objectContaining({ code: 'WVO_PROXY_LANE_INVALID' }));
    expect(() => parseLaneFlag('bl ue=http://x')).toThrow(expect.objectContaining({ code: 'WVO_PROXY_LANE_INVALID' }));
    expect(() => parseLaneFlag('blue=ftp://x')).toThrow(expect.objectContaining({ code: 'WVO_PROXY_LANE_INVALID' }));
  });

  it('requires a token and a known policy', () => {
    expect(() => resolveProxyOptions({ token: '' }, silentLogger(), systemClock)).toThrow(expect.objectContaining({ code: 'WVO_PROXY_TOKEN_MISSING' }));
    expect(() => resolveProxyOptions({ token: 't', sessionPolicy: 'keep' as never }, silentLogger(), systemClock)).toThrow(
      expect.objectContaining({ code: 'WVO_PROXY_OPTION_INVALID' }),
    );
    expect(resolveProxyOptions({ token: 't' }, silentLogger(), systemClock)).toMatchObject({ drainTimeoutMs: 30_000, sessionPolicy: 'move' });
  });
});
