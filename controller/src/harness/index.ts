/** The upgrade harness (`wvo upgrade` as named steps, the lock, staging, retention): other rooms import only this file. */
export * from './build.js';
export * from './lock.js';
export * from './options.js';
export * from './progress.js';
export * from './stage.js';
export * from './staged-gc.js';
export * from './staged-prune.js';
export * from './steps.js';
export * from './upgrade.js';
export * from './workspace-copy.js';
export { reportedMode } from './shadow-lanes.js';
export { SNAPSHOT_EXCLUDE } from './steps/snapshot.js';
