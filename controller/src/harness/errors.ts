import { defineErrors } from '../../../common/src/error-catalogue.js';

/**
 * Shadow integrity codes of the upgrade harness (docs/errors.md, `## Upgrade harness`). Kept as
 * their own block: other harness codes may be declared beside it.
 */
export const SHADOW_INTEGRITY_ERRORS = defineErrors('harness', {
  WVO_DRY_RUN_WROTE: { message: 'A strict DRY_RUN shadow lane changed its snapshot copy', status: 500, exitCode: 1 },
});
