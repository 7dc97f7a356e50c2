export const TOKEN_PRESSURE_LEVELS = ['low', 'elevated', 'high', 'critical'] as const;
export type TokenPressureLevel = (typeof TOKEN_PRESSURE_LEVELS)[number];

export interface TokenPressure {
  /** Prompt tokens held by tasks currently in progress. */
  readonly used_tokens: number;
  readonly budget: number;
  readonly ratio: number;
  readonly level: TokenPressureLevel;
}

/** Pure: tokens in flight against the budget. */
export function tokenPressure(usedTokens: number, budget: number): TokenPressure {
  const ratio = budget > 0 ? Math.round((usedTokens / budget) * 10_000) / 10_000 : 1;
  const level: TokenPressureLevel = ratio < 0.5 ? 'low' : ratio < 0.8 ? 'elevated' : ratio < 1 ? 'high' : 'critical';
  return { used_tokens: usedTokens, budget, ratio, level };
}

/**
 * Pure: a dispatch's prompt cost. `standard` prompts carry the task's context (dependencies and
 * checks), `compact` only the title and command, so PROMPT_MODE moves token pressure.
 */
export function promptTokens(estimatedTokens: number, promptText: string, mode: 'standard' | 'compact'): number {
  const context = mode === 'compact' ? Math.round(estimatedTokens * 0.6) : estimatedTokens;
  return context + Math.ceil(promptText.length / 4);
}
