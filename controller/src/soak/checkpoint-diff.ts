import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { reviveError } from '../../../common/src/error-catalogue.js';
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
 * the controller's event loop keeps replaying meanwhile. One thread per soak run, started at its
 * first checkpoint and kept (loading its modules costs more CPU than a diff); it holds the process
 * open only while a diff runs. Not built: the same code, inline.
 */
export class CheckpointDiffThread {
  private thread: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (section: StateSection) => void; reject: (error: Error) => void }>();

  constructor(private readonly script: string | undefined = checkpointThreadScript()) {}

  readonly diff: CheckpointDiff = (copies, database) => {
    if (!this.script) return Promise.resolve().then(() => verifyCheckpoint(copies, database));
    const thread = this.start(this.script);
    const id = this.nextId++;
    return new Promise<StateSection>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      thread.ref();
      thread.postMessage({ id, copies: { replica: copies.replica, candidate: copies.candidate, sqlite: [...copies.sqlite] }, database });
    });
  };

  /** Ends the thread (a diff still running is rejected). */
  async close(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    await thread?.terminate();
  }

  private start(script: string): Worker {
    if (this.thread) return this.thread;
    const thread = new Worker(script);
    thread.unref();
    thread.on('message', (message: ThreadMessage) => {
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (this.waiting.size === 0) thread.unref();
      if (message.ok) waiter?.resolve(message.section);
      else waiter?.reject(revive(message.error));
    });
    const fail = (error: Error) => {
      if (this.thread === thread) this.thread = undefined;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    thread.on('error', fail);
    thread.on('exit', (code) => fail(new Error(`the checkpoint diff thread exited with code ${code} before answering`)));
    this.thread = thread;
    return thread;
  }
}

/** One diff in a thread of its own (the thread ends with it). */
export async function diffCheckpointOffThread(copies: CheckpointCopies, database: string): Promise<StateSection> {
  const thread = new CheckpointDiffThread();
  try {
    return await thread.diff(copies, database);
  } finally {
    await thread.close();
  }
}

type ThreadMessage =
  | { id: number; ok: true; section: StateSection }
  | { id: number; ok: false; error: { wvo: boolean; code?: string; message: string; subject?: string; hint?: string; details?: Record<string, unknown>; status?: number; exitCode?: 1 | 2 } };

function revive(error: Extract<ThreadMessage, { ok: false }>['error']): Error {
  if (!error.wvo || !error.code) return new Error(error.message);
  return reviveError({ ...error, code: error.code });
}
