import { defineErrors } from '../../../common/src/error-catalogue.js';

/**
 * Codes of the promotion state machine, plan and store (docs/errors.md `## Promotion`); the
 * analysis declares its own in analysis/errors.ts. Refusals are 409, unknown ids 404.
 */
export const promotionErrors = defineErrors('promotion', {
  WVO_ILLEGAL_TRANSITION: { message: 'The state machine has no such transition', status: 409 },
  WVO_WORKER_MANAGER_INVALID: { message: 'worker_manager.json cannot be read' },
  WVO_INVALID_DURATION: { message: 'Not a positive duration', status: 400, exitCode: 2 },
  WVO_INVALID_PROMOTION_OPTION: { message: 'A promotion option is invalid', status: 400, exitCode: 2 },
  WVO_TESTS_SKIPPED: { message: 'The upgrade was not tested', status: 409 },
  WVO_CONTRACT_MIGRATION: { message: 'The upgrade is not proven rollback-safe', status: 409 },
  WVO_UPGRADE_FAILED: { message: 'The upgrade failed', status: 409 },
  WVO_RETENTION_EXPIRED: { message: 'The retention window ended', status: 409 },
  WVO_METRICS_PARSE: { message: 'The metrics body is not Prometheus text exposition' },
  WVO_NO_STAGED_UPGRADE: { message: 'No staged upgrade to promote', status: 404 },
  WVO_PROMOTION_IN_PROGRESS: { message: 'Another deployment is running', status: 409 },
  WVO_DEPLOYMENT_NOT_FOUND: { message: 'No such deployment', status: 404 },
  WVO_DEPLOYMENT_CONFLICT: { message: 'The deployment changed underneath this controller', status: 409 },
  WVO_DEPLOYMENT_OWNED: { message: 'A live controller drives the deployment' },
  WVO_ROLLBACK_SUPERSEDED: { message: 'A newer deployment replaced this one', status: 409 },
  WVO_NOTHING_TO_ROLL_BACK: { message: 'No running or promoted deployment to roll back', status: 409 },
  WVO_ROLLBACK_STUCK: { message: "A rollback's effects kept failing" },
  WVO_CONTROLLER_DB_NEWER: { message: 'controller.db was migrated by a newer wvo' },
  WVO_PROMOTION_PLAN_INVALID: { message: 'promotion_plan.json cannot be read' },
  WVO_PROMOTION_STEPS_INVALID: { message: 'The canary steps of a promotion are invalid', status: 400, exitCode: 2 },
  WVO_PROBE_INVALID: { message: 'A semantic probe of a promotion is invalid', status: 400, exitCode: 2 },
});
