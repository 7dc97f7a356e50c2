import { join } from 'node:path';
import Docker from 'dockerode';
import type { AppConfig } from '../../controller/src/config/index.js';
import type { UpgradeApp } from '../../controller/src/harness/index.js';
import { buildNpmAppImage, ensureBaseImage, laneAppFrom } from '../../controller/src/runtime/index.js';

/**
 * The protocol's reference "everything" server from the npm registry, in two published versions
 * (package.json devDependencies, npm aliases): 2026.1.26 (`everything-a`) and 2026.8.31
 * (`everything-b`, which annotates every tool and widens inputs). Packaged as images on our
 * offline base, or run as local commands.
 */
export const EVERYTHING = { a: 'everything-a', b: 'everything-b' } as const;
export const EVERYTHING_SUITE = join(import.meta.dirname, '..', 'fixtures', 'suites', 'everything.json');
const ROOT = join(import.meta.dirname, '..', '..');

/** The app as wvo.config.json declares it (`apps.everything`). */
export function everythingAppConfig(extra: Partial<AppConfig> = {}): AppConfig {
  return {
    command: ['node', 'node_modules/{image}/dist/index.js', 'streamableHttp'],
    cwd: ROOT,
    port: 3001,
    mcpPath: '/mcp',
    health: 'mcp',
    env: { port: 'PORT' },
    state: { kind: 'none' },
    suites: [],
    safeTools: [],
    ...extra,
  };
}

export function everythingApp(extra: Partial<AppConfig> = {}, name = 'everything'): UpgradeApp {
  const config = everythingAppConfig(extra);
  return { name, config, lane: laneAppFrom(name, config, ROOT) };
}

/** Docker image tags of both versions, built once per tag prefix (the offline base first). */
export async function buildEverythingImages(docker = new Docker(), prefix = 'wvo-everything'): Promise<{ a: string; b: string }> {
  const base = await ensureBaseImage(docker, 'wvo-node-base');
  const build = (pkg: string, tag: string) =>
    buildNpmAppImage(docker, { root: ROOT, pkg, args: ['dist/index.js', 'streamableHttp'], port: 3001, portEnv: 'PORT', tag, nodeImage: base.tag });
  const [a, b] = await Promise.all([build(EVERYTHING.a, `${prefix}:a`), build(EVERYTHING.b, `${prefix}:b`)]);
  return { a: a.tag, b: b.tag };
}
