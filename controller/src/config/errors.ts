import { defineErrors } from '../../../common/src/error-catalogue.js';

/** Codes of wvo.config.json loading (docs/errors.md `## Runtime and images`). */
export const configErrors = defineErrors('config', {
  WVO_CONFIG_INVALID: { message: 'The config (or an env override) fails validation', exitCode: 2 },
  WVO_CONFIG_UNREADABLE: { message: 'The config file cannot be read', exitCode: 2 },
});
