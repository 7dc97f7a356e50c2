import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../controller/src/config/index.js';

const made: string[] = [];
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

function writeConfig(value: unknown): string {
  const dir = tempDir('wvo-config-');
  const file = join(dir, 'wvo.config.json');
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

describe('wvo.config.json', () => {
  it('has defaults for every section', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({ runtime: 'auto', projectName: 'wvo', stateRoot: './state', hosts: [], defaultHost: 'local' });
    expect(config.lanes).toMatchObject({ readyTimeoutMs: 30_000, stopTimeoutMs: 10_000, memoryMb: 512, portRange: [20000, 29999] });
    expect(config.images).toMatchObject({ worker: 'wvo-worker', nodeImage: 'node:20-bookworm-slim', pull: true });
  });

  it('lanes.address: published by default, network accepted, anything else names its path', () => {
    expect(parseConfig({}).lanes.address).toBe('published');
    expect(parseConfig({ lanes: { address: 'network' } }).lanes.address).toBe('network');
    expect(() => parseConfig({ lanes: { address: 'dns' } })).toThrow(expect.objectContaining({ code: 'WVO_CONFIG_INVALID', subject: 'lanes.address' }));
  });

  it('names the JSON path of a bad value', () => {
    const file = writeConfig({ hosts: [{ name: 'a', docker: 'unix:///x' }, { name: 'b', docker: 'tcp://h:1', network: 'mesh' }] });
    expect(() => loadConfig({ file })).toThrow(expect.objectContaining({ code: 'WVO_CONFIG_INVALID', subject: 'hosts[1].network' }));
  });

  it('rejects unknown keys (typos) with their path', () => {
    expect(() => parseConfig({ lanes: { readyTimeout: 5 } })).toThrow(expect.objectContaining({ code: 'WVO_CONFIG_INVALID', subject: 'lanes' }));
    expect(() => parseConfig({ runtme: 'docker' })).toThrow(expect.objectContaining({ code: 'WVO_CONFIG_INVALID' }));
  });

  it('rejects duplicate hosts and a defaultHost that is not configured', () => {
    expect(() => parseConfig({ hosts: [{ name: 'a', docker: 'unix:///x' }, { name: 'a', docker: 'unix:///y' }] })).toThrow(
      expect.objectContaining({ subject: 'hosts[1].name' }),
    );
    expect(() => parseConfig({ defaultHost: 'far' })).toThrow(expect.objectContaining({ subject: 'defaultHost' }));
  });

  it('applies env overrides, and a bad one names the variable', () => {
    const file = writeConfig({ runtime: 'docker' });
    expect(loadConfig({ file, env: { WVO_RUNTIME: 'local', WVO_IMAGE_PULL: '0' } }).config).toMatchObject({ runtime: 'local', images: { pull: false } });
    expect(() => loadConfig({ file, env: { WVO_RUNTIME: 'kubernetes' } })).toThrow(expect.objectContaining({ code: 'WVO_CONFIG_INVALID', message: expect.stringContaining('WVO_RUNTIME') }));
  });

  it('an explicit file must exist; bad JSON is invalid; no file means defaults', () => {
    expect(() => loadConfig({ file: '/nonexistent/wvo.config.json' })).toThrow(expect.objectContaining({ code: 'WVO_CONFIG_UNREADABLE' }));
    expect(() => loadConfig({ file: writeConfig('{ nope') })).toThrow(expect.objectContaining({ code: 'WVO_CONFIG_INVALID' }));
    expect(loadConfig({ cwd: tempDir('wvo-empty-'), env: {} }).file).toBeUndefined();
  });
});
