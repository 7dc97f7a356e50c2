export { startProxy, type RunningProxy } from './proxy.js';
export { ProxyAdminClient, type AdminClientOptions, type LanesResponse } from './admin-client.js';
export {
  PROXY_DEFAULTS,
  SESSION_POLICIES,
  parseDuration,
  parseLaneFlag,
  parseListenAddress,
  type LaneSpec,
  type ProxyOptions,
  type SessionPolicy,
} from './options.js';
export { PROXY_ERRORS, ProxyError, type ProxyErrorCode } from './errors.js';
export { DEFAULT_HEALTH, HEALTH_KINDS, formatHealthSpec, parseHealthSpec, type HealthKind, type HealthSpec } from './health-spec.js';
export type { SurfaceDigest } from './surface-digest.js';
export type { CanaryView, LaneView, SwitchResult, LastSwitch, WeightResult } from './service.js';
export { seededRandom, type RandomSource } from './canary-split.js';
export type { SessionView } from './session-table.js';
export type { LaneRole } from './switch-rules.js';
export { RouteTableSchema, type RouteTable } from './route-table.js';
