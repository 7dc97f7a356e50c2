/**
 * Worker-thread entry (checkpoint-diff.ts starts it, built: dist/controller/src/soak/): runs
 * `verifyCheckpoint` on a checkpoint's copies and posts the state section, or the error as JSON
 * (a WvoError's code, subject, hint and details survive; the main thread rebuilds it).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isWvoError } from '../../../common/src/errors.js';
import { verifyCheckpoint, type CheckpointCopies } from './checkpoint-parity.js';

const { copies, database } = workerData as { copies: CheckpointCopies; database: string };
try {
  parentPort!.postMessage({ ok: true, section: verifyCheckpoint(copies, database) });
} catch (error) {
  const wvo = isWvoError(error);
  parentPort!.postMessage({
    ok: false,
    error: wvo ? { wvo, ...error.toJSON(), status: error.status, exitCode: error.exitCode } : { wvo, message: error instanceof Error ? error.message : String(error) },
  });
}
