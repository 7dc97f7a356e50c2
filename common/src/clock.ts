/** Time is injected so waits and deadlines are tested fast and deterministically. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** A clock whose time moves only when told to: sleeping advances it. */
export class ManualClock implements Clock {
  constructor(private current = 0) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  async sleep(ms: number): Promise<void> {
    this.current += ms;
  }
}

/** Poll `check` until it returns a value, or throw `onTimeout()` after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; clock?: Clock; onTimeout: () => Error },
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (clock.now() >= deadline) throw options.onTimeout();
    await clock.sleep(options.intervalMs ?? 100);
  }
}
