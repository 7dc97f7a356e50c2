/**
 * Worker-thread entry (checkpoint-diff.ts starts it, built: dist/controller/src/soak/): one
 * thread serves a soak's checkpoints in turn (its modules load once). For each request it runs
 * `verifyCheckpoint` on the copies and posts the state section, or the error as JSON (a
 * WvoError's code, subject, hint and details survive; the main thread rebuilds it).
 */
import { parentPort } from 'node:worker_threads';
import { isWvoError } from '../../../common/src/errors.js';
import { verifyCheckpoint, type CheckpointCopies } from './checkpoint-parity.js';

parentPort!.on('message', ({ id, copies, database }: { id: number; copies: CheckpointCopies; database: string }) => {
  try {
    parentPort!.postMessage({ id, ok: true, section: verifyCheckpoint(copies, database) });
  } catch (error) {
    const wvo = isWvoError(error);
    parentPort!.postMessage({
      id,
      ok: false,
      error: wvo ? { wvo, ...error.toJSON(), status: error.status, exitCode: error.exitCode } : { wvo, message: error instanceof Error ? error.message : String(error) },
    });
  }
});
