import { afterEach } from 'vitest';

export type Defer = (step: () => unknown) => void;

/**
 * What a test starts, it stops (STYLE habit 9): `const defer = cleanupAfterEach()` at file or
 * describe level, then `defer(() => thing.close())` right after starting a thing. After each test
 * the steps run newest first; every step runs even when one throws, and the first error fails the
 * test.
 */
export function cleanupAfterEach(): Defer {
  const steps: Array<() => unknown> = [];
  afterEach(async () => {
    const errors: unknown[] = [];
    for (const step of steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
  return (step) => void steps.push(step);
}
