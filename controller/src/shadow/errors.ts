import { defineErrors } from '../../../common/src/error-catalogue.js';

/** Codes of shadow suites and runs (docs/errors.md `## Shadow`). */
export const shadowErrors = defineErrors('shadow', {
  WVO_SUITE_INVALID: { message: 'The suite is invalid', status: 400, exitCode: 2 },
  WVO_SUITE_UNREADABLE: { message: 'The suite file cannot be read', exitCode: 2 },
  WVO_SUITE_UNKNOWN_TOOL: { message: 'A suite call names a tool the baseline does not list', exitCode: 2 },
  WVO_SHADOW_THRESHOLDS_INVALID: { message: 'A noise threshold is invalid', exitCode: 2 },
  WVO_SHADOW_LANE_UNREACHABLE: { message: 'A shadow lane does not answer MCP initialize' },
  WVO_SHADOW_LANE_FAILED: { message: 'A shadow lane connection broke during the suite' },
  WVO_SHADOW_ARTIFACT_INVALID: { message: 'A shadow artifact cannot be read' },
  // The tool-surface gate.
  WVO_SHADOW_SCHEMA_INVALID: { message: 'A tool advertises an invalid JSON Schema', status: 422 },
  WVO_SHADOW_SURFACE_INVALID: { message: 'A list result (tools, prompts, resources, templates) is malformed', status: 422 },
  WVO_SHADOW_SURFACE_UNREACHABLE: { message: 'The lane did not answer the MCP list requests', status: 502 },
});
