import { Counter, Gauge, Histogram, type GaugeConfiguration, type Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS } from './latency-buckets.js';

/**
 * Metrics on one registry (each process part keeps its own, never prom-client's global one), one
 * call per metric: name, help, labels. Histograms default to the shared MCP latency buckets.
 */
export function metricsOn(registry: Registry) {
  const registers = [registry];
  return {
    counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
      return new Counter<L>({ name, help, labelNames, registers });
    },
    histogram<L extends string = never>(name: string, help: string, labelNames: readonly L[] = [], buckets: number[] = LATENCY_BUCKETS_SECONDS): Histogram<L> {
      return new Histogram<L>({ name, help, labelNames, buckets, registers });
    },
    /** `collect` runs at scrape time (`this` is the gauge). */
    gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = [], collect?: GaugeConfiguration<L>['collect']): Gauge<L> {
      return new Gauge<L>({ name, help, labelNames, registers, ...(collect ? { collect } : {}) });
    },
  };
}
