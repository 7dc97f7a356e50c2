import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { WvoError } from '../../../common/src/errors.js';
import { INSTALL_ROOT } from '../runtime/index.js';
import type { StateSection } from '../state/index.js';
import { verifyCheckpoint, type CheckpointCopies } from './checkpoint-parity.js';

/** A checkpoint's integrity check and diff; the runner takes any (tests pass a slow one). */
export type CheckpointDiff = (copies: CheckpointCopies, database: string) => Promise<StateSection>;

const THREAD_FILE = 'checkpoint-diff-thread.js';

/**
 * The thread's built file. From dist's modules it is this file's sibling; the bundle
 * (dist/controller/bundle/) and sources run by tsx or vitest use the installation's built copy
 * (`npm run build`), since a worker thread cannot load TypeScript. Undefined when not built.
 */
export function checkpointThreadScript(moduleUrl: string = import.meta.url, installRoot: string = INSTALL_ROOT): string | undefined {
  const sibling = fileURLToPath(new URL(`./${THREAD_FILE}`, moduleUrl));
  if (moduleUrl.endsWith('.js') && existsSync(sibling)) return sibling;
  const built = join(installRoot, 'dist', 'controller', 'src', 'soak', THREAD_FILE);
  return existsSync(built) ? built : undefined;
}

/**
 * The checkpoint's CPU-bound part (integrity_check, parity on both copies) in a worker thread, so
 * the controller's event loop keeps replaying meanwhile. Not built: the same code, inline.
 */
export const diffCheckpointOffThread: CheckpointDiff = (copies, database) => {
  const script = checkpointThreadScript();
  if (!script) return Promise.resolve().then(() => verifyCheckpoint(copies, database));
  return new Promise<StateSection>((resolve, reject) => {
    const thread = new Worker(script, { workerData: { copies: { replica: copies.replica, candidate: copies.candidate, sqlite: [...copies.sqlite] }, database } });
    let settled = false;
    thread.once('message', (message: ThreadMessage) => {
      settled = true;
      if (message.ok) resolve(message.section);
      else reject(revive(message.error));
    });
    thread.once('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
    thread.once('exit', (code) => {
      if (!settled) reject(new Error(`the checkpoint diff thread exited with code ${code} before answering`));
    });
  });
};

type ThreadMessage =
  | { ok: true; section: StateSection }
  | { ok: false; error: { wvo: boolean; code?: string; message: string; subject?: string; hint?: string; details?: Record<string, unknown>; status?: number; exitCode?: 1 | 2 } };

function revive(error: Extract<ThreadMessage, { ok: false }>['error']): Error {
  if (!error.wvo || !error.code) return new Error(error.message);
  return new WvoError(error.code, error.message, {
    ...(error.subject === undefined ? {} : { subject: error.subject }),
    ...(error.hint === undefined ? {} : { hint: error.hint }),
    ...(error.details === undefined ? {} : { details: error.details }),
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.exitCode === undefined ? {} : { exitCode: error.exitCode }),
  });
}
