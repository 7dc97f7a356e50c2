import { defineErrors } from '../../../common/src/error-catalogue.js';

/** Codes of the tool-surface gate (documented in docs/errors.md under `## Shadow`). */
export const SURFACE_ERRORS = defineErrors('shadow', {
  WVO_SHADOW_SCHEMA_INVALID: { message: 'A tool advertises an invalid JSON Schema', status: 422, exitCode: 1 },
  WVO_SHADOW_SURFACE_INVALID: { message: 'A list result (tools, prompts, resources, templates) is malformed', status: 422, exitCode: 1 },
  WVO_SHADOW_SURFACE_UNREACHABLE: { message: 'The lane did not answer the MCP list requests', status: 502, exitCode: 1 },
});
