import suite from './default-suite.json' with { type: 'json' };
import { validateSuite, type Suite } from './suite.js';

export const DEFAULT_SUITE_SOURCE = 'default suite (controller/src/shadow/default-suite.json)';

/**
 * The suite `wvo upgrade` runs without `--suite`: every worker tool with several argument sets,
 * written against the worker's tool schemas (worker/src/tools). Kept as JSON so it doubles as a
 * starting point for custom suites. A fresh copy each call: callers may not share mutations.
 */
export function defaultSuite(): Suite {
  return validateSuite(structuredClone(suite), DEFAULT_SUITE_SOURCE);
}
