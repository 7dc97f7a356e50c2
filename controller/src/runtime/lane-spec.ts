import { RuntimeError } from './errors.js';
import { LANE_NAME_PATTERN, LANE_ROLES, WRITING_ROLES, type LaneSpec } from './lane-runtime.js';

/** Check a lane spec before anything starts (pure); fills the defaults both runtimes use. */
export function validateLaneSpec(spec: LaneSpec): LaneSpec & { role: NonNullable<LaneSpec['role']>; dryRun: boolean } {
  if (!LANE_NAME_PATTERN.test(spec.name)) {
    throw new RuntimeError('WVO_LANE_NAME_INVALID', `lane name "${spec.name}" is invalid`, {
      subject: spec.name,
      hint: 'Use lowercase letters, digits and dashes (max 63), starting with a letter or digit.',
      exitCode: 2,
    });
  }
  const role = spec.role ?? 'live';
  if (!LANE_ROLES.includes(role)) {
    throw new RuntimeError('WVO_LANE_SPEC_INVALID', `unknown lane role "${role}"`, { subject: 'role', hint: `One of: ${LANE_ROLES.join(', ')}.`, exitCode: 2 });
  }
  if (!spec.image) throw new RuntimeError('WVO_LANE_SPEC_INVALID', 'a lane needs an image', { subject: 'image', exitCode: 2 });
  if (!spec.stateDir) throw new RuntimeError('WVO_LANE_SPEC_INVALID', 'a lane needs a state directory', { subject: 'stateDir', exitCode: 2 });
  // Shadow lanes must never write the state they are given (DESIGN §4 step 7).
  if (!WRITING_ROLES.includes(role) && spec.dryRun === false) {
    throw new RuntimeError('WVO_LANE_SPEC_INVALID', `a ${role} lane must run with dry-run`, { subject: 'dryRun', hint: 'Shadow lanes are DRY_RUN by definition.', exitCode: 2 });
  }
  return { ...spec, role, dryRun: spec.dryRun ?? !WRITING_ROLES.includes(role) };
}
