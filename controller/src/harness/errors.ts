import { defineErrors } from '../../../common/src/error-catalogue.js';

/** Codes of `wvo upgrade` and its lock (docs/errors.md `## Upgrade harness`, `## State and lock`). */
export const harnessErrors = defineErrors('harness', {
  WVO_NOT_A_PROJECT: { message: 'The workspace is not a WVO project' },
  WVO_DIRTY_TREE: { message: 'The workspace has uncommitted changes' },
  WVO_SQLITE_UNAVAILABLE: { message: 'SQLite cannot be opened' },
  WVO_DISK_LOW: { message: 'Too little free space where the stage goes' },
  WVO_DISK_FULL: { message: 'The disk filled up while staging' },
  WVO_STAGE_FAILED: { message: 'Staging failed' },
  WVO_BASELINE_NOT_FOUND: { message: 'The baseline is neither an image, a tree nor a git ref' },
  WVO_BUILD_FAILED: { message: 'npm run build failed in the stage' },
  WVO_TESTS_FAILED: { message: "The staged copy's tests failed" },
  WVO_INTERRUPTED: { message: 'The upgrade was interrupted' },
  WVO_LOCK_HELD: { message: 'Another upgrade holds the lock', status: 409 },
  WVO_LOCK_STALE: { message: 'The upgrade lock is stale', status: 409 },
  // Shadow integrity: a strict DRY_RUN lane changed its copy.
  WVO_DRY_RUN_WROTE: { message: 'A strict DRY_RUN shadow lane changed its snapshot copy' },
});
