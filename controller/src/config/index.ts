export { configSchema, configSections, hostSchema, RUNTIME_CHOICES, HOST_NETWORK_MODES } from './schema.js';
export type { WvoConfig, WvoConfigInput, HostConfig } from './schema.js';
export { loadConfig, parseConfig, formatJsonPath, CONFIG_FILE, ENV_OVERRIDES } from './load.js';
export type { LoadConfigOptions, LoadedConfig } from './load.js';
export { configErrors } from './errors.js';
export * from './app-schema.js';
export { appHealthSpec, resolveApp, type ResolvedApp } from './apps.js';
export * from './schema.js';
