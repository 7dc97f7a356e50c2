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
  SNAPSHOT_METHODS,
  copySqliteConsistent,
  sha256File,
  snapshotCopies,
  takeSnapshot,
  type SnapshotCopiesOptions,
  type SnapshotCopiesResult,
  type SnapshotIo,
  type SnapshotMethod,
  type SnapshotOptions,
  type SnapshotResult,
} from './snapshot.js';
export { MANIFEST_FILE, SNAPSHOT_FILE_KINDS, SnapshotManifest, readManifest, type SnapshotFile } from './manifest.js';
export { SQLITE_HEADER, isSqliteFile, openReadOnly } from './sqlite-file.js';
