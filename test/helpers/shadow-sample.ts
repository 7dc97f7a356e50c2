import type { ShadowResult } from '../../controller/src/shadow/index.js';

/** A shadow.json (version 2) with no calls and nothing reported: tests spread over it what they need. */
export const EMPTY_SHADOW_RESULT: ShadowResult = {
  version: 2,
  started_at: '2026-11-28T20:00:00.000Z',
  finished_at: '2026-11-28T20:00:01.000Z',
  lanes: { baseline: 'http://b', replica: 'http://r', candidate: 'http://c' },
  thresholds: { relative: 1, absolute: 0, proportional: 0.05, timestamp_tolerance_ms: 2000 },
  noise: { lanes: ['replica'], repeats: 0, samples: 0, paths: [] },
  calls: [],
  diffs: [],
  groups: [],
  coverage: { tools: [], executor_gaps: [] },
  totals: { calls: 0, diffs: 0, reported: 0, cancelled: 0, groups: 0, groups_reported: 0, state_reported: 0, count: 0 },
};
