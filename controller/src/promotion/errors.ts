import { defineErrors } from '../../../common/src/error-catalogue.js';

// ---- weighted canary steps and semantic probes (issue 12) ------------------------------------
// Kept in their own block: other promotion codes may be declared beside it in this file.

/** Codes of the promotion plan's canary steps and probes (docs/errors.md, `## Promotion`). */
export const CANARY_ERRORS = defineErrors('promotion', {
  WVO_PROMOTION_STEPS_INVALID: { message: 'The canary steps of a promotion are invalid', status: 400, exitCode: 2 },
  WVO_PROBE_INVALID: { message: 'A semantic probe of a promotion is invalid', status: 400, exitCode: 2 },
});
