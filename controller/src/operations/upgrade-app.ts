import { resolveApp, type WvoConfig } from '../config/index.js';
import type { UpgradeApp } from '../harness/index.js';
import { laneAppFrom, WORKER_APP } from '../runtime/index.js';

/** The app `--app NAME` names, as the harness and the runtime need it (our worker by default). */
export function resolveUpgradeApp(config: Pick<WvoConfig, 'apps'>, baseDir: string, name?: string): UpgradeApp {
  const app = resolveApp(config, name);
  return { name: app.name, config: app.config, lane: app.builtIn ? WORKER_APP : laneAppFrom(app.name, app.config, baseDir) };
}
