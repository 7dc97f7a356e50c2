import { defineErrors } from '../../../common/src/error-catalogue.js';

/** Codes of state snapshots and parity (docs/errors.md `## State and lock`). */
export const stateErrors = defineErrors('state', {
  WVO_STATE_DB_MISSING: { message: 'The database does not exist', exitCode: 2 },
  WVO_STATE_NOT_SQLITE: { message: 'The file is not a SQLite database', exitCode: 2 },
  WVO_PARITY_IGNORE_INVALID: { message: 'An ignore rule is not table.column', exitCode: 2 },
  WVO_SNAPSHOT_SOURCE_MISSING: { message: 'The state directory to snapshot does not exist' },
  WVO_SNAPSHOT_DEST_INVALID: { message: 'The snapshot destination is not a new directory outside the source', exitCode: 2 },
  WVO_SNAPSHOT_DEST_UNWRITABLE: { message: 'The snapshot destination is not writable' },
  WVO_SNAPSHOT_DISK_FULL: { message: 'The disk filled up while writing the snapshot' },
  WVO_SNAPSHOT_VERIFY_FAILED: { message: 'A snapshot copy failed verification' },
  WVO_SNAPSHOT_FAILED: { message: 'The snapshot failed' },
  WVO_SNAPSHOT_MANIFEST_INVALID: { message: 'The snapshot manifest is missing or invalid' },
});
