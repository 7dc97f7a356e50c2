import type { Clock } from '../../../common/src/clock.js';
import type { UpgradeResult } from '../harness/index.js';
import type { DeploymentStore, UpgradeSummary } from '../promotion/index.js';
import type { ProxyAdminClient } from '../proxy/index.js';
import type { LaneRuntime } from '../runtime/index.js';
import { chooseLanes, upgradeSummaryFromResult } from './upgrade-record.js';

/**
 * Record a harness run in controller.db (every run, so `wvo promote <id>` finds it), with the
 * lanes it targets: the proxy's active lane as baseline when the proxy answers, else the
 * runtime's ready live lane, else `blue`.
 */
export async function recordHarnessRun(input: {
  store: DeploymentStore;
  result: UpgradeResult;
  runtime: LaneRuntime;
  proxy?: ProxyAdminClient;
  clock: Clock;
}): Promise<UpgradeSummary> {
  const proxyActive = input.proxy ? await input.proxy.lanes().then((l) => l.active, () => undefined) : undefined;
  const live = (await input.runtime.listLanes().catch(() => []))
    .filter((lane) => lane.role === 'live' && lane.status === 'ready')
    .map((lane) => lane.name)
    .sort();
  const summary = upgradeSummaryFromResult(input.result, chooseLanes({ proxyActive, liveLanes: live }));
  input.store.recordUpgrade(summary, input.clock.now());
  return summary;
}
