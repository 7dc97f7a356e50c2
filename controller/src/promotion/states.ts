/**
 * Deployment states (DESIGN §5). No `failed` state: a rollback that cannot finish stays in
 * `rolling_back` (its effects are idempotent and re-run by `wvo resume`), so "failed" would only
 * hide which side of the switch the traffic is on.
 */
export const DEPLOYMENT_STATES = [
  'shadowed',
  'canary_live',
  'weighted',
  'switched',
  'observing',
  'promoted',
  'rolling_back',
  'rolled_back',
] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

/**
 * The forward path, in order. `weighted` (a share of new sessions on the candidate, observed and
 * analysed per step) is taken only by plans with canary steps below 100 %; a one-step plan goes
 * canary_live → switched directly.
 */
export const FORWARD_PATH = ['shadowed', 'canary_live', 'weighted', 'switched', 'observing', 'promoted'] as const;

/**
 * States that hold the "one running deployment" slot. `promoted` releases it (a later rollback
 * within the retention window takes it again); `rolled_back` is final.
 */
export const RUNNING_STATES = ['shadowed', 'canary_live', 'weighted', 'switched', 'observing', 'rolling_back'] as const;

/** Settled states: the reconciler stops driving here. */
export const SETTLED_STATES = ['promoted', 'rolled_back'] as const;

/** States whose intervals are observed and analysed: a weighted step, or after the switch. */
export const OBSERVED_STATES = ['weighted', 'observing'] as const;

export function isObserved(state: DeploymentState): boolean {
  return (OBSERVED_STATES as readonly DeploymentState[]).includes(state);
}

/**
 * Every legal `from → to` edge. Self-edges are logged steps that keep the state: a flag flip or a
 * failed check while observing, the baseline's removal after retention, a resumed rollback.
 */
export const LEGAL_TRANSITIONS: Readonly<Record<DeploymentState, readonly DeploymentState[]>> = {
  shadowed: ['canary_live', 'rolling_back'],
  canary_live: ['weighted', 'switched', 'rolling_back'],
  // Self-edge: the next weight, or a failed check while a step is observed.
  weighted: ['weighted', 'switched', 'rolling_back'],
  switched: ['observing', 'rolling_back'],
  observing: ['observing', 'promoted', 'rolling_back'],
  // Rollback after promotion, only while the retention window is open (checked by the machine).
  promoted: ['promoted', 'rolling_back'],
  rolling_back: ['rolling_back', 'rolled_back'],
  rolled_back: [],
};

export function isLegalTransition(from: DeploymentState, to: DeploymentState): boolean {
  return LEGAL_TRANSITIONS[from].includes(to);
}

export function isRunning(state: DeploymentState): boolean {
  return (RUNNING_STATES as readonly DeploymentState[]).includes(state);
}

export function isSettled(state: DeploymentState): boolean {
  return (SETTLED_STATES as readonly DeploymentState[]).includes(state);
}

/** Position on the forward path, or -1 for the rollback states. */
export function forwardIndex(state: DeploymentState): number {
  return (FORWARD_PATH as readonly DeploymentState[]).indexOf(state);
}
