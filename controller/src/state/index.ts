/** The state room's public API: parity checks and consistent snapshots of state directories. */
export {
  compareDatabases,
  compareOpenDatabases,
  parseIgnoreRules,
  ROW_DIFFERENCE_KINDS,
  type IgnoreRule,
  type ParityOptions,
  type ParityReport,
  type RowDifference,
  type RowDifferenceKind,
  type TableParity,
} from './parity.js';
export {
  DEFAULT_SNAPSHOT_EXCLUDE,
  DEFAULT_SNAPSHOT_METHOD,
  checkCopyIntegrity,
  sha256File,
  snapshotCopies,
  takeSnapshot,
  type SnapshotCopiesOptions,
  type SnapshotCopiesResult,
  type SnapshotIo,
  type SnapshotOptions,
  type SnapshotResult,
  type SqliteCopyReport,
} from './snapshot.js';
export {
  SNAPSHOT_METHODS,
  WAL_HANDLING,
  copySqliteConsistent,
  walVerdict,
  type SnapshotMethod,
  type SqliteCopy,
  type WalHandling,
} from './sqlite-copy.js';
export { MANIFEST_FILE, SNAPSHOT_FILE_KINDS, SnapshotManifest, readManifest, type SnapshotFile } from './manifest.js';
export { SQLITE_HEADER, SQLITE_SIDE_SUFFIXES, WAL_HEADER_SIZE, isSqliteFile, openReadOnly, readWalHeader } from './sqlite-file.js';
export { COPY_CHANGE_KINDS, copyChanges, type CopyChange, type CopyChangeKind } from './copy-integrity.js';
export { diffLaneStates, type LaneStateDiffOptions, type LaneStateFiles } from './lane-state-diff.js';
export { SchemaDeltaSchema, SchemaItemSchema, schemaDelta, type SchemaDelta, type SchemaItem } from './schema-delta.js';
export {
  STATE_GROUP_KINDS,
  STATE_VERDICTS,
  StateDatabaseDiffSchema,
  StateGroupSchema,
  StateSectionSchema,
  buildStateDiff,
  stateSection,
  type BuildStateDiffInput,
  type StateDatabaseDiff,
  type StateGroup,
  type StateSection,
} from './state-diff.js';
