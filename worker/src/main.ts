#!/usr/bin/env node
// Entry of `wvo-worker` (lanes, the image and tests start this file): the bundle when fresh, else
// the modules (common/src/bundle-entry.ts). Opt out with WVO_WORKER_BUNDLE=0.
import { loadEntry } from '../../common/src/bundle-entry.js';

await loadEntry({
  bundle: new URL('../bundle/main.mjs', import.meta.url),
  modules: new URL('./cli.js', import.meta.url),
  optOut: 'WVO_WORKER_BUNDLE',
  importModules: () => import('./cli.js'),
});
