/** Pure critic logic: each critic scores a verification; reputation follows agreement with the checks. */

export interface CriticState {
  readonly id: string;
  readonly name: string;
  /** 0..1; a strict critic wants a higher share of passing checks. */
  readonly strictness: number;
  readonly reputation: number;
}

export interface CriticReview {
  readonly critic_id: string;
  readonly name: string;
  readonly verdict: 'pass' | 'fail';
  readonly score: number;
  /** Whether the verdict matched the checks' ground truth (all checks passed or not). */
  readonly agreed: boolean;
  readonly reputation_before: number;
  readonly reputation_after: number;
}

export interface CriticPanelResult {
  readonly reviews: readonly CriticReview[];
  /** Reputation-weighted share of pass verdicts, 0..1. */
  readonly consensus: number;
  readonly approved: boolean;
}

const round = (value: number): number => Math.round(value * 10_000) / 10_000;

/** The share of checks a critic needs to see pass. */
export function criticThreshold(strictness: number): number {
  return 0.5 + strictness / 2;
}

/** Agreement raises reputation slowly toward 1; disagreement costs more, toward 0. */
export function nextReputation(reputation: number, agreed: boolean): number {
  return round(agreed ? reputation + 0.05 * (1 - reputation) : reputation - 0.1 * reputation);
}

export function reviewByPanel(critics: readonly CriticState[], passRatio: number): CriticPanelResult {
  const groundTruth = passRatio >= 1;
  const reviews = critics.map((critic): CriticReview => {
    const threshold = criticThreshold(critic.strictness);
    const verdict = passRatio >= threshold ? 'pass' : 'fail';
    const agreed = (verdict === 'pass') === groundTruth;
    return {
      critic_id: critic.id,
      name: critic.name,
      verdict,
      score: round(Math.min(1, passRatio / threshold)),
      agreed,
      reputation_before: critic.reputation,
      reputation_after: nextReputation(critic.reputation, agreed),
    };
  });
  const weight = critics.reduce((sum, critic) => sum + critic.reputation, 0);
  const passWeight = reviews.reduce((sum, review) => sum + (review.verdict === 'pass' ? review.reputation_before : 0), 0);
  const consensus = weight > 0 ? round(passWeight / weight) : groundTruth ? 1 : 0;
  return { reviews, consensus, approved: consensus >= 0.5 };
}
