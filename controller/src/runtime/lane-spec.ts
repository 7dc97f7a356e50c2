import { RuntimeError } from './errors.js';
import { LANE_MODES, LANE_NAME_PATTERN, LANE_ROLES, WRITING_ROLES, type LaneMode, type LaneRole, type LaneSpec } from './lane-runtime.js';

/** The lane's mode from `mode` or the older `dryRun` (they must agree when both are given). */
function laneMode(spec: LaneSpec, role: LaneRole): LaneMode {
  const fromDryRun = spec.dryRun === undefined ? undefined : spec.dryRun ? 'dry_run' : 'live';
  if (spec.mode !== undefined && !LANE_MODES.includes(spec.mode)) {
    throw new RuntimeError('WVO_LANE_SPEC_INVALID', `unknown lane mode "${spec.mode}"`, { subject: 'mode', hint: `One of: ${LANE_MODES.join(', ')}.`, exitCode: 2 });
  }
  if (spec.mode !== undefined && fromDryRun !== undefined && (spec.mode === 'dry_run') !== spec.dryRun) {
    throw new RuntimeError('WVO_LANE_SPEC_INVALID', `mode "${spec.mode}" contradicts dryRun=${String(spec.dryRun)}`, {
      subject: 'mode',
      hint: 'Give mode alone (dryRun is its older spelling).',
      exitCode: 2,
    });
  }
  return spec.mode ?? fromDryRun ?? (WRITING_ROLES.includes(role) ? 'live' : 'dry_run');
}

/** Check a lane spec before anything starts (pure); fills the defaults both runtimes use. */
export function validateLaneSpec(
  spec: LaneSpec,
): LaneSpec & { role: NonNullable<LaneSpec['role']>; dryRun: boolean; mode: LaneMode } {
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
  const mode = laneMode(spec, role);
  // Shadow lanes must never write live state (DESIGN §4 step 7): dry-run, or sandbox on their private copy.
  if (!WRITING_ROLES.includes(role) && mode === 'live') {
    throw new RuntimeError('WVO_LANE_SPEC_INVALID', `a ${role} lane must run with dry-run or in a sandbox`, {
      subject: spec.mode === undefined ? 'dryRun' : 'mode',
      hint: 'Shadow lanes are DRY_RUN, or sandbox on a private snapshot copy.',
      exitCode: 2,
    });
  }
  // A sandbox commits to its state: never the live lane's.
  if (role === 'live' && mode === 'sandbox') {
    throw new RuntimeError('WVO_LANE_SPEC_INVALID', 'a live lane cannot run in a sandbox', { subject: 'mode', hint: 'Use mode live or dry_run.', exitCode: 2 });
  }
  return { ...spec, role, mode, dryRun: mode === 'dry_run' };
}
