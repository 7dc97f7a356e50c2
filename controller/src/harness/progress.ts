import { Listr, type ListrTaskWrapper } from 'listr2';
import { STEP_NAMES, type StepName, type StepRecord } from './steps.js';
import type { UpgradeEvent } from './upgrade.js';

export interface UpgradeReporter {
  onEvent(event: UpgradeEvent): void;
  /** Wait until the reporter has drawn everything (listr2 settles its tasks). */
  finish(): Promise<void>;
}

function describeStep(step: StepRecord): string {
  const seconds = (step.duration_ms / 1000).toFixed(1);
  return `[upgrade] ${step.name}: ${step.status} (${seconds} s)`;
}

/** Plain lines for logs, CI and pipes: one per message and one per finished step. */
export function plainReporter(write: (line: string) => void): UpgradeReporter {
  return {
    onEvent(event) {
      if (event.type === 'step-start') write(`[upgrade] ${event.name} …`);
      else if (event.type === 'message') write(`[upgrade]   ${event.message}`);
      else {
        write(describeStep(event.step));
        if (event.step.status === 'failed') {
          const error = event.step.detail.error as { code?: string; message?: string } | undefined;
          if (error) write(`[upgrade]   ${error.code}: ${error.message}`);
        }
      }
    },
    finish: async () => undefined,
  };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** listr2 progress on a TTY: one task per step, messages as the task's output. */
export function listrReporter(): UpgradeReporter {
  const ended = new Map<StepName, Deferred<StepRecord | undefined>>(STEP_NAMES.map((name) => [name, deferred()]));
  const tasks = new Map<StepName, ListrTaskWrapper<unknown, never, never>>();
  const listr = new Listr(
    STEP_NAMES.map((name) => ({
      title: name,
      task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) => {
        tasks.set(name, task);
        const step = await ended.get(name)!.promise;
        if (!step) return task.skip(`${name}: not run`);
        task.title = `${name} (${(step.duration_ms / 1000).toFixed(1)} s)`;
        if (step.status === 'skipped') return task.skip(`${name}: skipped`);
        if (step.status === 'warning') task.title = `${name}: warning (${(step.duration_ms / 1000).toFixed(1)} s)`;
        if (step.status === 'failed') {
          const error = step.detail.error as { code?: string; message?: string } | undefined;
          throw new Error(error ? `${error.code}: ${error.message}` : `${name} failed`);
        }
      },
    })),
    { concurrent: false, exitOnError: true },
  );
  const running = listr.run().catch(() => undefined);
  return {
    onEvent(event) {
      if (event.type === 'message') {
        const task = tasks.get(event.name);
        if (task) task.output = event.message;
      } else if (event.type === 'step-end') ended.get(event.step.name)!.resolve(event.step);
    },
    async finish() {
      for (const entry of ended.values()) entry.resolve(undefined);
      await running;
    },
  };
}
