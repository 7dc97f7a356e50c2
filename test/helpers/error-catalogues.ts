import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { registeredErrors, type RegisteredError } from '../../common/src/error-catalogue.js';

export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');
export const SOURCE_DIRS = ['common/src', 'controller/src', 'worker/src'];

/**
 * Every module that declares a catalogue (calls defineErrors), one per room (promotion has two).
 * errors-documented.test.ts fails when a module calling defineErrors is missing here.
 */
export const CATALOGUE_MODULES = [
  'common/src/common-errors.ts',
  'controller/src/api/errors.ts',
  'controller/src/config/errors.ts',
  'controller/src/fleet/errors.ts',
  'controller/src/harness/errors.ts',
  'controller/src/operations/errors.ts',
  'controller/src/promotion/errors.ts',
  'controller/src/promotion/analysis/errors.ts',
  'controller/src/proxy/errors.ts',
  'controller/src/runtime/errors.ts',
  'controller/src/shadow/errors.ts',
  'controller/src/soak/errors.ts',
  'controller/src/state/errors.ts',
  'worker/src/errors.ts',
];

/** Loads every catalogue and answers what the registry then holds. */
export async function loadCatalogues(): Promise<RegisteredError[]> {
  for (const module of CATALOGUE_MODULES) await import(join(PROJECT_ROOT, module));
  return registeredErrors();
}

/** The .ts files under the source dirs, as paths relative to the project root. */
export function sourceFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return walk(path);
      return path.endsWith('.ts') ? [path] : [];
    });
  return SOURCE_DIRS.flatMap((dir) => walk(join(PROJECT_ROOT, dir))).map((path) => relative(PROJECT_ROOT, path));
}

export function readSource(file: string): string {
  return readFileSync(join(PROJECT_ROOT, file), 'utf8');
}
