// Bundles the compiled worker (dist/worker/src/cli.js and what it imports, dependencies included)
// into dist/worker/bundle/main.mjs, which dist/worker/src/main.js loads when it is fresh.
// Run by `npm run build` after tsc. Left outside the bundle:
// - better-sqlite3: a native addon, loaded from node_modules;
// - pino, pino-pretty: pino starts transports (pino-pretty on a TTY) in worker threads by module
//   path, which only resolves from node_modules.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist/worker/bundle/main.mjs');
rmSync(dirname(outfile), { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist/worker/src/cli.js')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3', 'pino', 'pino-pretty'],
  // CommonJS dependencies call require(): give the ES module one.
  banner: { js: "import { createRequire as __wvoCreateRequire } from 'node:module'; const require = __wvoCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
});
