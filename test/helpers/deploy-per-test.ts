import { cleanupAfterEach, type Defer } from './cleanup.js';
import { startDeployRig, type DeployRig } from './deploy-rig.js';
import { startTraffic, type Traffic } from './mcp-traffic.js';

export interface DeployPerTest {
  /** A deploy rig (startDeployRig), closed after the test. */
  rig(options?: Parameters<typeof startDeployRig>[0]): Promise<DeployRig>;
  /** MCP traffic (startTraffic), closed after the test, before the rig it runs through. */
  traffic(url: string, options: Parameters<typeof startTraffic>[1]): Promise<Traffic>;
  /** Any other cleanup step, run newest first with the rest. */
  defer: Defer;
}

/** Call once per deploy test file: what a test starts through it is stopped after that test. */
export function deployPerTest(): DeployPerTest {
  const defer = cleanupAfterEach();
  return {
    async rig(options) {
      const rig = await startDeployRig(options);
      defer(() => rig.close());
      return rig;
    },
    async traffic(url, options) {
      const traffic = await startTraffic(url, options);
      defer(() => traffic.close());
      return traffic;
    },
    defer,
  };
}
