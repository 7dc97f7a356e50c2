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
  // Image-to-image upgrades of an app (--app NAME --candidate IMAGE).
  WVO_APP_IMAGE_NOT_FOUND: { message: "An app's baseline or candidate image is not on the chosen host", exitCode: 1 },
  WVO_APP_BASELINE_MISSING: { message: 'An image-to-image upgrade has no baseline (no --baseline, no apps.NAME.image)', exitCode: 2 },
  WVO_APP_NOT_READY: { message: "An app's lane never passed its health check (wrong port, path or health spec, or not an MCP server)" },
});
