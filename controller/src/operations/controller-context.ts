import type { Logger } from '../../../common/src/logger.js';
import type { WvoConfig } from '../config/index.js';
import { upgradePruner } from '../harness/index.js';
import type { LaneImageBuilder } from '../harness/index.js';
import type { LaneRuntime } from '../runtime/index.js';
import { wireDeploy } from './control-plane.js';
import type { ControllerContext } from './controller.js';
import { connectProxyAdmin } from './proxy-connection.js';

/**
 * `wvo serve`'s controller from config: one proxy admin client (without its token the controller
 * still runs, and promote/rollback are refused with WVO_PROMOTION_UNAVAILABLE), the executor over
 * the controller's own store, and the staged-image pruner. `close` ends the proxy client.
 */
export async function controllerContextFromConfig(input: {
  config: WvoConfig;
  projectRoot: string;
  stateRoot: string;
  runtime: LaneRuntime;
  images: LaneImageBuilder;
  logger: Logger;
}): Promise<{ context: ControllerContext; close(): Promise<void> }> {
  const { config, projectRoot, stateRoot, runtime, images, logger } = input;
  const proxy = await connectProxyAdmin(config, projectRoot).catch((error: unknown) => {
    logger.warn({ err: error }, 'no proxy admin client: promotion is unavailable');
    return undefined;
  });
  return {
    context: {
      projectRoot,
      stateRoot,
      runtime,
      images,
      logger,
      ...(proxy
        ? { proxy, promotion: (store) => wireDeploy({ config, projectRoot, stateRoot, runtime, logger, proxy, store }).operations.promotionFunctions() }
        : {}),
      pruneStaged: upgradePruner({ projectRoot, stateRoot, runtime, config }),
    },
    async close() {
      await proxy?.close();
    },
  };
}
