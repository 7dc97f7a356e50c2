/**
 * Histogram buckets (seconds) for MCP call latency, shared by the worker and the proxy so their
 * p95s (promotion gates, the Grafana dashboard) are computed on the same edges.
 */
export const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
