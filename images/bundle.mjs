// Bundles the compiled entry points, dependencies included, into one file each, which their
// launchers load when fresh (common/src/bundle-entry.ts):
//   dist/worker/src/cli.js           → dist/worker/bundle/main.mjs      (wvo-worker)
//   dist/controller/src/cli/program.js → dist/controller/bundle/main.mjs (wvo)
// Run by `npm run build` after tsc; `node images/bundle.mjs worker` (npm run build:worker, what
// `wvo upgrade` builds a staged worker with) bundles only the worker. Left outside the bundles,
// loaded from node_modules:
// - better-sqlite3, and ssh2 / cpu-features (dockerode's SSH transport): native addons;
// - pino, pino-pretty: pino starts transports (pino-pretty on a TTY) in worker threads by module
//   path, which only resolves from node_modules;
// - playwright-core: a large optional browser driver, loaded only where used.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRIES = [
  { name: 'worker', entry: 'dist/worker/src/cli.js', outfile: 'dist/worker/bundle/main.mjs' },
  { name: 'controller', entry: 'dist/controller/src/cli/program.js', outfile: 'dist/controller/bundle/main.mjs' },
];
const only = process.argv.slice(2);
await Promise.all(
  ENTRIES.filter(({ name }) => only.length === 0 || only.includes(name)).map(async ({ entry, outfile }) => {
    rmSync(dirname(join(root, outfile)), { recursive: true, force: true });
    await build({
      entryPoints: [join(root, entry)],
      outfile: join(root, outfile),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['better-sqlite3', 'pino', 'pino-pretty', 'ssh2', 'cpu-features', 'playwright-core'],
      // CommonJS dependencies call require(): give the ES module one.
      banner: { js: "import { createRequire as __wvoCreateRequire } from 'node:module'; const require = __wvoCreateRequire(import.meta.url);" },
      logLevel: 'warning',
      legalComments: 'none',
    });
  }),
);
