/** The worker room's public surface: everything other rooms and tests may import. */
export { startWorker, type WorkerHandle, type WorkerOptions } from './worker.js';
export { seedState, type SeedOptions, type SeedSummary } from './seed/seed.js';
export { WorkerError, WORKER_ERROR_CODES, type WorkerErrorCode } from './errors.js';
export { MIGRATIONS, MIGRATION_KINDS, type Migration, type MigrationKind } from './store/migrations/index.js';
export { migrate, latestVersion, schemaStatus, classifySchema, type SchemaStatus, type MigrationResult } from './store/migrate.js';
export { migrateStateRoot } from './store/migrate-state-root.js';
export { DB_FILE, dbPathFor } from './store/database.js';
export { FLAG_VALUES, FLAG_NAMES, DEFAULT_FLAGS, parseFlagOverrides, type Flags, type FlagName } from './store/settings.js';
export { UpgradeShadowSummary, SHADOW_SUMMARY_FILE, type ShadowDiffs } from './operations/shadow-summary.js';
export { TOOL_NAMES } from './tools/registry.js';
export { TaskCommand, TaskSpec, TaskCheck } from './executor/command-dsl.js';
export { DEFAULT_ALLOW_LIST, checkCommand, type AllowList, type AllowedProgram } from './executor/allow-list.js';
export { WORKER_MODES, resolveWorkerMode, type WorkerMode } from './mode.js';
export { EXECUTION_SOURCES, EXECUTION_STATUSES, type ExecutionSource, type ExecutionStatus } from './executor/executor.js';
export { RUNS_KEPT_PER_FINGERPRINT } from './store/executor-runs.js';
