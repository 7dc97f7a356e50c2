import type { UpgradeSummary } from '../promotion/index.js';
import type { MemberShadow } from './fleet-record.js';

/**
 * A deployment's own shadow run (`--shadow per-deployment`, pure parts): the run's id and the
 * gate its result must pass before any of that deployment's traffic moves.
 */

/** What `MemberPlane.shadow` reports of one run (`wvo upgrade --candidate` over the member's plane). */
export interface ShadowRun extends MemberShadow {
  outcome: NonNullable<MemberShadow['outcome']>;
  /** Breaking tool-surface changes the run classified. */
  breaking: number;
  /** The harness error message, when the run failed on one. */
  error: string | null;
}

/**
 * The run id: a lane-name-safe slug of the fleet upgrade and the deployment (lanes are
 * `up-<id>-<role>`, [a-z0-9-]); a re-run after an interrupted shadow gets `-r2`, `-r3`…, so its
 * steps and artifacts never mix with the interrupted one's.
 */
export function shadowRunId(upgradeId: string, deployment: string, previous?: string): string {
  if (previous) {
    const match = /^(.*)-r(\d+)$/.exec(previous);
    return match ? `${match[1]}-r${Number(match[2]) + 1}` : `${previous}-r2`;
  }
  const slug = `${upgradeId}-${deployment}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  // Room for `up-` and the longest role suffix inside a 63-character lane name.
  return slug.slice(0, 36).replace(/-$/, '');
}

/** Why the run must stop this deployment before its traffic moves (null: it may be promoted). */
export function shadowGate(run: ShadowRun): string | null {
  const where = run.shadowJson ?? run.artifactsDir ?? run.runId;
  if (run.outcome === 'failed') return `its shadow run ${run.runId} failed${run.error ? `: ${run.error}` : ''} (${run.artifactsDir ?? 'no artifacts'})`;
  if ((run.count ?? 0) > 0) return `its shadow run ${run.runId} reported ${run.count} difference(s): ${where}`;
  if (run.breaking > 0) return `its shadow run ${run.runId} found ${run.breaking} breaking tool-surface change(s): ${where}`;
  return null;
}

/**
 * The shape of every per-deployment run, checked against the promotion options at fleet begin
 * (before any record or lane): it is image to image, so its test step is skipped by design and
 * its schema-compat skipped for a stateful app; a plan that refuses this (no allowContract)
 * would refuse every deployment only after its shadow ran.
 */
export function perDeploymentRunShape(representative: UpgradeSummary): UpgradeSummary {
  return {
    id: `${representative.id} (each deployment's own shadow run)`,
    outcome: 'passed',
    source: 'image',
    steps: [
      { name: 'test', status: 'skipped' },
      { name: 'schema-compat', status: 'skipped' },
    ],
    baseline: representative.baseline,
    candidate: representative.candidate,
  };
}
