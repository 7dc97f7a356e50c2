import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../controller/src/config/index.js';
import { ControlPlane, type ControlPlaneInput } from '../../controller/src/operations/index.js';
import { CONTROLLER_DB_FILE, DeploymentStore } from '../../controller/src/promotion/index.js';
import { LocalRuntime } from '../../controller/src/runtime/index.js';

let dir: string;
let stateRoot: string;
let runtime: LocalRuntime;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wvo-control-plane-'));
  stateRoot = join(dir, 'state');
  mkdirSync(stateRoot);
  runtime = new LocalRuntime({ runDir: join(dir, 'run') });
});
afterEach(async () => {
  await runtime.close();
  rmSync(dir, { recursive: true, force: true });
});

function input(overrides: Partial<ControlPlaneInput> = {}): ControlPlaneInput {
  return {
    config: parseConfig({ runtime: 'local', stateRoot: './state', proxy: { admin: '127.0.0.1:9' } }),
    projectRoot: dir,
    stateRoot,
    runtime,
    env: {},
    ...overrides,
  };
}

describe('ControlPlane: one proxy client and one controller.db per command', () => {
  it('a promotion needs the proxy token at once; without it nothing is opened', async () => {
    await expect(ControlPlane.open(input())).rejects.toMatchObject({ code: 'WVO_DEPLOY_PROXY_TOKEN_MISSING', subject: 'proxy.tokenFile' });
    expect(existsSync(join(stateRoot, CONTROLLER_DB_FILE))).toBe(false);
  });

  it('optional proxy: a plane without one records, and refuses to promote with the token error', async () => {
    const plane = await ControlPlane.open(input({ proxy: 'optional' }));
    try {
      expect(plane.optionalProxy).toBeUndefined();
      expect(() => plane.operations).toThrow(expect.objectContaining({ code: 'WVO_DEPLOY_PROXY_TOKEN_MISSING' }));
    } finally {
      await plane.close();
    }
  });

  it('opens controller.db once, when first used, and the same client serves every operation', async () => {
    const plane = await ControlPlane.open(input({ env: { WVO_PROXY_TOKEN: 'proxy-token' } }));
    const db = join(stateRoot, CONTROLLER_DB_FILE);
    expect(existsSync(db)).toBe(false);
    const store = plane.store;
    expect(existsSync(db)).toBe(true);
    expect(plane.store).toBe(store);
    expect(plane.proxy).toBe(plane.optionalProxy);
    expect(plane.proxy).toBe(plane.proxy);
    expect(plane.operations).toBe(plane.operations);
    expect(plane.runner).toBe(plane.runner);
    await plane.close();
    expect(() => store.list()).toThrow(); // closed with the plane
  });

  it('a store it was given stays open after close', async () => {
    const given = DeploymentStore.open(stateRoot);
    try {
      const plane = await ControlPlane.open(input({ env: { WVO_PROXY_TOKEN: 'proxy-token' }, store: given }));
      expect(plane.store).toBe(given);
      await plane.close();
      expect(given.list()).toEqual([]);
    } finally {
      given.close();
    }
  });
});
