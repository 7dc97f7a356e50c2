import { expect } from 'vitest';

/**
 * The promise of every zero-downtime test: not one request of the traffic failed. The failures
 * (first 20) are compared first, so a red run shows what failed, not only how many.
 */
export function expectNoFailedRequests(traffic: { failed: number; failures: string[] }): void {
  expect(traffic.failures, 'failed requests').toEqual([]);
  expect(traffic.failed, 'failed requests').toBe(0);
}
