import { defineErrors } from './error-catalogue.js';

/** Codes every room may raise (docs/errors.md `## Common`, and the shared options schema). */
export const commonErrors = defineErrors('common', {
  WVO_INTERNAL: { message: 'An unexpected error (a bug)' },
  WVO_OPTIONS_INVALID: { message: 'Options of an operation do not match its schema', status: 400, exitCode: 2 },
});
