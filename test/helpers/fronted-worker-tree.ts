import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

/**
 * A built tree whose lane is this repo's real worker (dist/) behind a small HTTP front in the same
 * process: the local runtime starts it like any tree. `front` is JavaScript that defines `server`
 * (an http server forwarding to `inner.url`); `http` and `inner` are in scope, the listening line
 * and the SIGTERM stop are added here.
 */
export function writeFrontedWorkerTree(dir: string, name: string, front: string): string {
  mkdirSync(join(dir, 'dist/worker/src'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '0.0.1', type: 'module' }));
  const worker = JSON.stringify(join(REPO_ROOT, 'dist/worker/src/index.js'));
  writeFileSync(
    join(dir, 'dist/worker/src/main.js'),
    `import http from 'node:http';
import { startWorker } from ${worker};
const inner = await startWorker({ stateRoot: process.env.WVO_STATE_ROOT, port: 0, dryRun: process.env.WVO_DRY_RUN === '1' });
${front.trim()}
server.listen(Number(process.env.WVO_PORT ?? 0), process.env.WVO_HOST ?? '127.0.0.1', () => {
  const port = server.address().port;
  process.stdout.write(JSON.stringify({ event: 'listening', port, url: 'http://127.0.0.1:' + port }) + '\\n');
});
const stop = async () => { server.close(); server.closeAllConnections(); await inner.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
`,
  );
  return dir;
}
