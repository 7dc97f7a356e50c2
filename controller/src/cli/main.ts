#!/usr/bin/env node
// Entry of `wvo` (the image and tests start this file too): the bundle when fresh, else the
// modules (common/src/bundle-entry.ts). Opt out with WVO_CLI_BUNDLE=0.
import { loadEntry } from '../../../common/src/bundle-entry.js';

await loadEntry({
  bundle: new URL('../../bundle/main.mjs', import.meta.url),
  modules: new URL('./program.js', import.meta.url),
  optOut: 'WVO_CLI_BUNDLE',
  importModules: () => import('./program.js'),
});
