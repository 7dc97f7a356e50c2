import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { entryKind } from '../../common/src/bundle-entry.js';

let cached: string | undefined;

/** The package version, found by walking up from this file (works from src/ and dist/). */
export function workerVersion(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth += 1) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'wvo' && pkg.version) return (cached = pkg.version);
    } catch {
      // keep walking up
    }
    dir = dirname(dir);
  }
  return (cached = '0.0.0');
}

/** Which code this process runs: the one-file bundle (dist/worker/bundle/main.mjs) or the modules. */
export function workerEntry(): 'bundle' | 'modules' {
  return entryKind(import.meta.url);
}
