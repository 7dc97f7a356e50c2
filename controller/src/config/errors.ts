import { defineErrors } from '../../../common/src/error-catalogue.js';

/** Codes of wvo.config.json loading (docs/errors.md `## Runtime and images`). */
export const configErrors = defineErrors('config', {
  WVO_CONFIG_INVALID: { message: 'The config (or an env override) fails validation', exitCode: 2 },
  WVO_CONFIG_UNREADABLE: { message: 'The config file cannot be read', exitCode: 2 },
  WVO_APP_INVALID: { message: 'An app in wvo.config.json (apps.NAME) is missing a field or has a bad one', exitCode: 2 },
  WVO_APP_UNKNOWN: { message: 'No app with that name in wvo.config.json (apps)', exitCode: 2 },
});
