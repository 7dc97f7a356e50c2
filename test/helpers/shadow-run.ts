import {
  compareSuiteRun,
  DEFAULT_THRESHOLDS,
  validateSuite,
  type CallOutcome,
  type Lane,
  type ShadowResult,
  type Thresholds,
} from '../../controller/src/shadow/index.js';

/** An answer as a lane would give it. */
export const answer = (result: unknown, isError = false): CallOutcome => ({ result, isError, durationMs: 3 });

/**
 * compareSuiteRun on a suite run built by hand: one entry per call, [baseline, replica, candidate]
 * answers. The pure half of a shadow run, without any lane.
 */
export function compareAnswers(
  suiteRaw: unknown,
  answers: readonly (readonly [CallOutcome, CallOutcome, CallOutcome])[],
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
): ShadowResult {
  const suite = validateSuite(suiteRaw);
  return compareSuiteRun(
    {
      tools: { baseline: [], replica: [], candidate: [] },
      calls: suite.calls.map((call, index) => {
        const [baseline, replica, candidate] = answers[index]!;
        return { index, call, arguments: call.arguments, outcomes: { baseline, replica, candidate } as Record<Lane, CallOutcome> };
      }),
    },
    {
      suite,
      thresholds,
      lanes: { baseline: 'http://127.0.0.1:1/mcp', replica: 'http://127.0.0.1:2/mcp', candidate: 'http://127.0.0.1:3/mcp' },
      startedAt: new Date('2026-11-28T20:00:00Z'),
      finishedAt: new Date('2026-11-28T20:00:02Z'),
    },
  );
}
