import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * This installation's root: the nearest ancestor holding package.json and images/. Found by
 * walking up, because the code runs both from dist/ (built) and from sources (tsx, vitest).
 */
export function findInstallRoot(start: string = import.meta.dirname): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'images', 'worker.Dockerfile'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return join(start, '..', '..', '..', '..');
    dir = parent;
  }
}

export const INSTALL_ROOT = findInstallRoot();
