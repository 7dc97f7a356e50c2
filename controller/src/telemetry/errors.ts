import { defineErrors } from '../../../common/src/error-catalogue.js';

/** Codes of the telemetry files (docs/errors.md `## Promotion`). */
export const telemetryErrors = defineErrors('telemetry', {
  WVO_WORKER_MANAGER_INVALID: { message: 'worker_manager.json cannot be read' },
});
