/**
 * The fleet room (issue 14): many orchestrators upgraded together in waves. Pure wave planning
 * and decisions (fleet-options, fleet-targets, fleet-decide) apart from the shell that drives
 * each deployment's own promotion through the operations room (fleet-runner, member-plane).
 */
export { fleetErrors } from './errors.js';
export { resolveFleetTargets, type FleetTarget } from './fleet-targets.js';
export { fleetPromotionOptionsSchema, parseFleetOptions, planFleetWaves, planWaves, resolveWaveSettings, waveSpec, type FleetPromotionOptions, type WaveSettings } from './fleet-options.js';
export { formatWaveSizes, parseWaveObserve, parseWaveSizes, planProgressiveWaves, waveCounts, type PlannedWave, type WaveSize } from './wave-plan.js';
export { FLEET_STATES, MEMBER_STATES, SETTLED_FLEET_STATES, fleetRecordSchema, type FleetMember, type FleetRecord, type FleetState, type MemberState } from './fleet-record.js';
export { decideFleet, finishFleet, updateMember, type FleetAction } from './fleet-decide.js';
export { FleetStore } from './fleet-store.js';
export { FleetRunner, memberUpgrade, type BegunFleet, type FleetRunnerDeps } from './fleet-runner.js';
export { memberConfig, openMemberPlane, type MemberPlane, type MemberPlaneContext } from './member-plane.js';
export { FleetControl, type FleetContextInput, type FleetStatus, type FleetStatusRow } from './fleet-control.js';
export { FleetReconcileLoop, type FleetReconcileOptions } from './fleet-reconcile.js';
