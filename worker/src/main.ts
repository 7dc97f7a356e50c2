#!/usr/bin/env node
/**
 * Entry of `wvo-worker` (lanes, the image, tests all start this file). It loads the one-file
 * bundle `npm run build` writes to dist/worker/bundle/ (images/worker-bundle.mjs): parsing one
 * file instead of hundreds of modules halves the time to listening, which every lane start,
 * shadow run and rollback pays. The modules (./cli.js) are used when there is no bundle, when
 * the bundle is older than this build (a plain `tsc` after `npm run build`), or with
 * WVO_WORKER_BUNDLE=0.
 */
import { statSync } from 'node:fs';

const bundle = new URL('../bundle/main.mjs', import.meta.url);
const modules = new URL('./cli.js', import.meta.url);

function mtimeMs(file: URL): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

const bundled = mtimeMs(bundle);
const fresh = bundled !== undefined && bundled >= (mtimeMs(modules) ?? Infinity);
await import(fresh && process.env.WVO_WORKER_BUNDLE !== '0' ? bundle.href : './cli.js');
