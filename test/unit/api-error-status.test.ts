import { beforeAll, describe, expect, it } from 'vitest';
import { errorSpec } from '../../common/src/error-catalogue.js';
import { WvoError } from '../../common/src/errors.js';
import { httpStatusFor } from '../../controller/src/api/http-errors.js';
import { ADMIN_FLAG_ERRORS } from '../../worker/src/admin-flags.js';
import { JOURNAL_HTTP_ERRORS } from '../../worker/src/journal/journal-http.js';
import { loadCatalogues } from '../helpers/error-catalogues.js';

/** The statuses `wvo serve` answered with before catalogues (api/http-errors.ts's STATUS table). */
const PINNED: Record<string, number> = {
  WVO_UNAUTHORIZED: 401,
  WVO_API_NOT_FOUND: 404,
  WVO_API_BAD_REQUEST: 400,
  WVO_API_BODY_TOO_LARGE: 413,
  WVO_OPTIONS_INVALID: 400,
  WVO_INVALID_PROMOTION_OPTION: 400,
  WVO_INVALID_DURATION: 400,
  WVO_SUITE_INVALID: 400,
  WVO_UPGRADE_NOT_FOUND: 404,
  WVO_DEPLOYMENT_NOT_FOUND: 404,
  WVO_NO_STAGED_UPGRADE: 404,
  WVO_LOCK_HELD: 409,
  WVO_LOCK_STALE: 409,
  WVO_PROMOTION_IN_PROGRESS: 409,
  WVO_DEPLOYMENT_CONFLICT: 409,
  WVO_ILLEGAL_TRANSITION: 409,
  WVO_NOTHING_TO_ROLL_BACK: 409,
  WVO_TESTS_SKIPPED: 409,
  WVO_CONTRACT_MIGRATION: 409,
  WVO_UPGRADE_FAILED: 409,
  WVO_RETENTION_EXPIRED: 409,
  WVO_ROLLBACK_SUPERSEDED: 409,
  WVO_PROMOTION_UNAVAILABLE: 501,
};

describe('HTTP status of an error', () => {
  beforeAll(async () => {
    await loadCatalogues();
  });

  it('comes from the catalogue that declares the code', () => {
    for (const [code, status] of Object.entries(PINNED)) {
      expect(errorSpec(code)?.status, code).toBe(status);
    }
  });

  it('is the status the error carries; 500 for anything that is not a WvoError', () => {
    expect(httpStatusFor(new WvoError('WVO_X', 'x', { status: 409 }))).toBe(409);
    expect(httpStatusFor(new WvoError('WVO_X', 'x'))).toBe(500);
    expect(httpStatusFor(new Error('boom'))).toBe(500);
  });

  // The worker's HTTP layers still keep status maps of their own (TODO: read them from worker/src/errors.ts).
  it('of the worker endpoints agrees with the worker catalogue', () => {
    for (const [code, status] of Object.entries({ ...ADMIN_FLAG_ERRORS, ...JOURNAL_HTTP_ERRORS })) {
      expect(errorSpec(code)?.status, code).toBe(status);
    }
  });
});
