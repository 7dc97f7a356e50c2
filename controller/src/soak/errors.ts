import { defineErrors } from '../../../common/src/error-catalogue.js';

/** Codes of the dual-write soak (docs/errors.md `## Soak`). */
export const soakErrors = defineErrors('soak', {
  WVO_SOAK_OPTION_INVALID: { message: 'A soak option is invalid', status: 400, exitCode: 2 },
  WVO_SOAK_NOT_FOUND: { message: 'No such soak', status: 404, exitCode: 2 },
  WVO_SOAK_RUNNING: { message: 'A soak is already running', status: 409 },
  WVO_SOAK_LIVE_LANE_MISSING: { message: 'The live lane to soak against is not running', status: 409 },
  WVO_SOAK_NO_JOURNAL: { message: 'The live worker keeps no call journal (older worker)', status: 409 },
  WVO_SOAK_JOURNAL_UNREACHABLE: { message: 'The live journal could not be read', status: 502 },
  WVO_SOAK_FORK_OPEN: { message: 'The fork holds a call that was still open', status: 409 },
  WVO_SOAK_FORK_MISMATCH: { message: 'The fork does not match the journal sequence it was taken at', status: 409 },
  WVO_SOAK_JOURNAL_GAP: { message: 'The live journal has a gap (entries missing or pruned)', status: 409 },
  WVO_SOAK_JOURNAL_REWRITTEN: { message: 'The live journal was rewritten under the soak', status: 409 },
  WVO_SOAK_LAGGING: { message: 'The soak fell behind the live journal beyond its limit', status: 409 },
  WVO_SOAK_LANE_CRASHED: { message: 'A soak lane kept crashing', status: 502 },
  WVO_SOAK_REPLAY_REFUSED: { message: 'A soak lane refused a journal entry', status: 502 },
  WVO_SOAK_DISK_FULL: { message: 'The soak ran out of disk', status: 507 },
  WVO_SOAK_REQUIRED: { message: 'Promotion requires a clean soak that does not exist', status: 409 },
});
