import { defineErrors } from '../../../../common/src/error-catalogue.js';

/** Codes of the promotion analysis (documented in docs/errors.md under `## Promotion`). */
export const ANALYSIS_ERRORS = defineErrors('promotion', {
  WVO_ANALYSIS_CONFIG_INVALID: { message: 'The promotion analysis configuration is invalid', status: 400, exitCode: 2 },
  WVO_ANALYSIS_INPUT_INVALID: { message: 'The samples given to the promotion analysis are invalid', status: 400, exitCode: 1 },
});
