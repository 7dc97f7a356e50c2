import { connectMcp } from '../../../common/src/mcp-client.js';

/**
 * One `orchestrator_status` call on a lane, straight to the worker (not through the proxy, so it
 * reads the lane asked for). Undefined when the lane does not answer in time or answers an error:
 * the gates then skip what needs it, and a missing candidate status is visible in the plan.
 */
export async function readOrchestratorStatus(laneUrl: string, timeoutMs = 3_000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  const read = (async () => {
    const session = await connectMcp(laneUrl, 'wvo-controller');
    try {
      const result = await session.call('orchestrator_status');
      return result.isError ? undefined : result.value;
    } finally {
      await session.close().catch(() => undefined);
    }
  })().catch(() => undefined);
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
