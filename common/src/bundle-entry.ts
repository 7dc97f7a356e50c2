import { statSync } from 'node:fs';

/**
 * Entry points (`wvo`, `wvo-worker`) load a one-file esbuild bundle that `npm run build` writes
 * after tsc (images/bundle.mjs): parsing one file instead of hundreds of modules halves a
 * process's start. The modules are used instead when there is no bundle, when the bundle is
 * older than the modules' entry (a plain `tsc` after `npm run build`), or when `optOut` is set
 * to 0 in the environment. Kept tiny: it runs before either.
 */
export async function loadEntry(options: {
  bundle: URL;
  /** The modules' entry file, compared by mtime with the bundle. */
  modules: URL;
  /** Environment variable that turns the bundle off with `0`. */
  optOut: string;
  /** Imports the modules' entry (a literal specifier in the caller, so tsx can map it to .ts). */
  importModules: () => Promise<unknown>;
}): Promise<void> {
  const bundled = mtimeMs(options.bundle);
  const fresh = bundled !== undefined && bundled >= (mtimeMs(options.modules) ?? Infinity);
  if (fresh && process.env[options.optOut] !== '0') await import(options.bundle.href);
  else await options.importModules();
}

function mtimeMs(file: URL): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Which code this process runs, for /version and logs: the bundle or the modules. */
export function entryKind(moduleUrl: string): 'bundle' | 'modules' {
  return /\/bundle\/main\.mjs$/.test(moduleUrl) ? 'bundle' : 'modules';
}
