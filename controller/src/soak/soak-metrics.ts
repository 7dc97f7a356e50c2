import type { Registry } from 'prom-client';
import { metricsOn } from '../../../common/src/metric-factory.js';
import type { SoakRecord } from './soak-record.js';

/**
 * The soak's gauges, read from controller.db at scrape time (the driver may be another process:
 * `wvo soak start` in a terminal while `wvo serve` is scraped). Values are the running soak's, or
 * the newest soak's when none runs; `wvo_soak_running` tells which.
 */
export function registerSoakMetrics(registry: Registry, read: () => SoakRecord | undefined): void {
  const metric = metricsOn(registry);
  const gauge = (name: string, help: string, value: (soak: SoakRecord) => number) =>
    metric.gauge(name, help, [], function () {
      const soak = read();
      this.set(soak ? value(soak) : 0);
    });
  gauge('wvo_soak_running', '1 while a soak replays the live journal', (soak) => (soak.state === 'running' ? 1 : 0));
  gauge('wvo_soak_replayed_calls', 'Journal entries replayed to both soak lanes and compared', (soak) => soak.replayed);
  gauge('wvo_soak_lag_calls', 'Live journal entries not yet replayed', (soak) => soak.lag_calls);
  gauge('wvo_soak_lag_seconds', 'Age of the entry replayed last (live time to replay)', (soak) => soak.lag_ms / 1000);
  gauge('wvo_soak_answer_diffs', 'Replayed calls whose candidate answer differs (reported)', (soak) => soak.answer_diffs);
  gauge('wvo_soak_state_diffs', 'Reported state differences at the last parity checkpoint', (soak) => soak.state_diffs);
  gauge('wvo_soak_checkpoints', 'Parity checkpoints taken', (soak) => soak.checkpoints);
}
