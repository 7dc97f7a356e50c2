import { z } from 'zod';
import { isWvoError } from '../../../common/src/errors.js';
import { ANALYSIS_ERRORS } from './analysis/errors.js';
import { analysisConfigSchema, parseAnalysisConfig, type AnalysisConfig } from './analysis/config.js';
import { parseCanarySteps, weightedSteps } from './canary-steps.js';
import { formatDuration, parseDuration } from './duration.js';
import { promotionErrors } from './errors.js';
import { FAILURE_MODES, gateThresholdsSchema } from './gates.js';
import { parseProbes, probeSchema, type Probe } from './probes.js';

/** Feature flags a plan may flip (worker settings table, DESIGN §3). */
export const FLAG_NAMES = ['PROMPT_MODE', 'SANDBOX_MODE', 'SELECTIVE_TESTS'] as const;
export type FlagName = (typeof FLAG_NAMES)[number];

/** What to do with a deployment found in `observing` after a controller crash. */
export const RESUME_OBSERVING = ['continue', 'rollback'] as const;
export type ResumeObserving = (typeof RESUME_OBSERVING)[number];

export const flagChangeSchema = z.object({
  name: z.enum(FLAG_NAMES),
  /** Value set when flipped. */
  value: z.string().min(1).default('on'),
  /** Value restored on rollback. */
  revertTo: z.string().min(1).default('off'),
});
export type FlagChange = z.infer<typeof flagChangeSchema>;

/** `PROMPT_MODE` or `PROMPT_MODE=v2` (CLI spelling) → a flag change. */
const flagInput = z.union([
  z.string().transform((text, ctx) => {
    const [name, value] = text.trim().split('=', 2) as [string, string | undefined];
    const parsed = flagChangeSchema.safeParse({ name, ...(value === undefined ? {} : { value }) });
    if (parsed.success) return parsed.data;
    ctx.addIssue({ code: 'custom', message: `unknown flag "${name}" (known: ${FLAG_NAMES.join(', ')})` });
    return z.NEVER;
  }),
  flagChangeSchema,
]);

/** `10m`/`30s`/`500ms` or ms; with `zero`, also `0` / `0s`: "not at all". */
function durationOption(options: { zero: boolean }) {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    if (options.zero && (value === 0 || /^\s*0+(\.0+)?\s*(ms|s|m|h)?\s*$/.test(String(value)))) return 0;
    try {
      return parseDuration(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
      return z.NEVER;
    }
  });
}
const durationInput = durationOption({ zero: false });
const optionalDurationInput = durationOption({ zero: true });

/** argo-rollouts' scaleDownDelaySeconds default: the old lane stays warm 30 s after promotion. */
export const DEFAULT_KEEP_WARM_MS = 30_000;

/**
 * The one options type of `wvo promote` and `POST /deployments/:id/promote` (STYLE habit 3).
 * Durations accept `10m`/`30s`/`500ms` or milliseconds; flags accept a comma list, names,
 * `NAME=value`, or `{name, value, revertTo}`.
 */
export const promotionOptionsSchema = z
  .object({
    upgradeId: z.string().min(1).optional(),
    observeMs: durationInput.default(10 * 60_000),
    /** Default: 15 s, or the observe window when that is shorter. */
    intervalMs: durationInput.optional(),
    maxFailedChecks: z.number().int().min(1).default(3),
    failureMode: z.enum(FAILURE_MODES).default('total'),
    flags: z
      .union([z.string().transform((s) => s.split(',').filter((f) => f.trim() !== '')), z.array(z.unknown())])
      .pipe(z.array(flagInput))
      .default([]),
    allowContract: z.boolean().default(false),
    retentionMs: durationInput.default(24 * 3_600_000),
    /**
     * After promotion the old lane keeps running (drained, no traffic) this long before it is
     * stopped: a rollback inside the window is a proxy switch, not a restart (argo-rollouts'
     * scaleDownDelaySeconds, whose default 30 s this copies). 0: stopped at once.
     */
    keepWarmMs: optionalDurationInput.optional(),
    /** Canary weights in percent (`10,50,100`); validated by parseCanarySteps. Default: the plain switch. */
    steps: z.unknown().optional(),
    /** Semantic probes; validated by parseProbes. */
    probes: z.unknown().optional(),
    /** Candidate-vs-baseline analysis config; validated by parseAnalysisConfig. */
    analysis: z.unknown().optional(),
    resumeObserving: z.enum(RESUME_OBSERVING).default('continue'),
    gates: gateThresholdsSchema.prefault({}),
  })
  .strict()
  .transform((o) => ({
    ...o,
    intervalMs: o.intervalMs ?? Math.min(15_000, o.observeMs),
    // The default never exceeds a (short) retention window the caller chose.
    keepWarmMs: o.keepWarmMs ?? Math.min(DEFAULT_KEEP_WARM_MS, o.retentionMs),
  }))
  .superRefine((o, ctx) => {
    if (o.intervalMs > o.observeMs) {
      ctx.addIssue({ code: 'custom', path: ['intervalMs'], message: 'must not exceed observeMs' });
    }
    if (o.keepWarmMs > o.retentionMs) {
      ctx.addIssue({ code: 'custom', path: ['keepWarmMs'], message: 'must not exceed retentionMs' });
    }
    const names = o.flags.map((f) => f.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) ctx.addIssue({ code: 'custom', path: ['flags'], message: `flag ${dup} listed twice` });
  });
type ParsedOptions = z.output<typeof promotionOptionsSchema>;
export type PromotionOptions = Omit<ParsedOptions, 'steps' | 'probes' | 'analysis'> & {
  /** Canary weights, ending at 100 (the switch); `[100]`: the plain blue/green switch. */
  steps: number[];
  probes: Probe[];
  analysis: AnalysisConfig;
};
export type PromotionOptionsInput = z.input<typeof promotionOptionsSchema>;

/**
 * Validate options from the CLI or the API; errors name the option (its JSON path). Steps,
 * probes and the analysis config have codes of their own (WVO_PROMOTION_STEPS_INVALID,
 * WVO_PROBE_INVALID, WVO_ANALYSIS_CONFIG_INVALID), subjects `steps[1]`, `probes[0].expect[0].path`,
 * `analysis.metrics.x`.
 */
export function parsePromotionOptions(input: unknown): PromotionOptions {
  const parsed = promotionOptionsSchema.safeParse(input ?? {});
  if (parsed.success) {
    const { steps, probes, analysis, ...rest } = parsed.data;
    return { ...rest, steps: parseCanarySteps(steps), probes: parseProbes(probes), analysis: parseAnalysisSection(analysis) };
  }
  const issue = parsed.error.issues[0]!;
  const path = issue.path.join('.') || '(options)';
  throw promotionErrors.create('WVO_INVALID_PROMOTION_OPTION', `invalid promotion option ${path}: ${issue.message}`, {
    subject: path,
    hint: 'see `wvo promote --help`',
    details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
  });
}

function parseAnalysisSection(input: unknown): AnalysisConfig {
  try {
    return parseAnalysisConfig(input ?? {});
  } catch (error) {
    // The same code, its subject prefixed so it names the field of the promotion options.
    if (isWvoError(error) && error.code === 'WVO_ANALYSIS_CONFIG_INVALID' && error.subject !== undefined) {
      throw ANALYSIS_ERRORS.create('WVO_ANALYSIS_CONFIG_INVALID', error.message, { subject: `analysis.${error.subject}`, hint: error.hint, details: error.details, cause: error });
    }
    throw error;
  }
}

export const laneRefSchema = z.object({ lane: z.string().min(1), image: z.string().min(1) });
export type LaneRef = z.infer<typeof laneRefSchema>;

/** What the harness left behind for an upgrade, as promotion needs it (steps.json + lanes). */
export const upgradeSummarySchema = z.object({
  id: z.string().min(1),
  outcome: z.string().optional(),
  steps: z.array(z.object({ name: z.string(), status: z.string() }).loose()),
  baseline: laneRefSchema,
  candidate: laneRefSchema,
  /** Shadow differences the run reported; null when its shadow step did not run. Absent in older records. */
  shadowDiffs: z.number().int().min(0).nullable().optional(),
  /**
   * `image`: an image-to-image run (`--app --candidate`): nothing was built here, so its test
   * step is `skipped` by design (the image's publisher tests it), which promotion accepts.
   */
  source: z.enum(['workspace', 'image']).optional(),
});
export type UpgradeSummary = z.infer<typeof upgradeSummarySchema>;

export const PLAN_STEP_KINDS = ['start_canary', 'set_weight', 'switch', 'observe', 'flip_flag', 'promote'] as const;
export type PlanStepKind = (typeof PLAN_STEP_KINDS)[number];

export const planStepSchema = z.object({
  kind: z.enum(PLAN_STEP_KINDS),
  description: z.string(),
  flag: z.enum(FLAG_NAMES).optional(),
  durationMs: z.number().optional(),
  /** set_weight: the candidate's share of new sessions, percent. */
  weight: z.number().optional(),
});
export type PlanStep = z.infer<typeof planStepSchema>;

/** Persisted with the deployment and in promotion_plan.json: everything the machine consults. */
export const promotionPlanSchema = z.object({
  upgradeId: z.string(),
  baseline: laneRefSchema,
  candidate: laneRefSchema,
  observeMs: z.number().int().positive(),
  intervalMs: z.number().int().positive(),
  maxFailedChecks: z.number().int().min(1),
  failureMode: z.enum(FAILURE_MODES),
  flags: z.array(flagChangeSchema),
  allowContract: z.boolean(),
  retentionMs: z.number().int().positive(),
  /** Absent in plans written before it existed: 0. */
  keepWarmMs: z.number().int().min(0).default(0),
  resumeObserving: z.enum(RESUME_OBSERVING),
  gates: gateThresholdsSchema,
  /** Canary weights ending at 100; absent in plans written before weighted steps: the plain switch. */
  canarySteps: z.array(z.number().int().min(1).max(100)).min(1).default([100]),
  /** Semantic probes run against both lanes every interval. */
  probes: z.array(probeSchema).default([]),
  /** Candidate-vs-baseline analysis config (Kayenta-like judge); absent in old plans: the defaults. */
  analysis: analysisConfigSchema.prefault({}),
  /** Human-readable order of work; derived from the fields above. */
  steps: z.array(planStepSchema),
});
export type PromotionPlan = z.infer<typeof promotionPlanSchema>;

/**
 * Build the plan (pure, like kamal's command builders), refusing upgrades that are not safe to
 * promote: failed, tests skipped, or a schema-compat warning without `allowContract`.
 */
export function buildPromotionPlan(upgrade: UpgradeSummary, options: PromotionOptions): PromotionPlan {
  assertPromotable(upgrade, options);
  const { baseline, candidate } = upgrade;
  const observe = formatDuration(options.observeMs);
  const steps: PlanStep[] = [{ kind: 'start_canary', description: `start ${candidate.lane} (${candidate.image}) live, DRY_RUN=0` }];
  for (const weight of weightedSteps(options.steps)) {
    steps.push(
      { kind: 'set_weight', weight, description: `proxy: ${weight}% of new sessions to ${candidate.lane}, the rest to ${baseline.lane}` },
      { kind: 'observe', weight, description: `observe ${observe} at ${weight}%: ${candidate.lane} against ${baseline.lane} under the same traffic`, durationMs: options.observeMs },
    );
  }
  steps.push(
    { kind: 'switch', description: `proxy: ${baseline.lane} → ${candidate.lane}; ${baseline.lane} drains` },
    { kind: 'observe', description: `observe ${observe} with no flag changes`, durationMs: options.observeMs },
  );
  for (const flag of options.flags) {
    steps.push(
      { kind: 'flip_flag', flag: flag.name, description: `set ${flag.name}=${flag.value}` },
      { kind: 'observe', flag: flag.name, description: `observe ${observe} with ${flag.name}=${flag.value}`, durationMs: options.observeMs },
    );
  }
  const warm = options.keepWarmMs > 0 ? `keep ${baseline.lane} running ${formatDuration(options.keepWarmMs)}, then ` : '';
  steps.push({
    kind: 'promote',
    description: `${warm}stop ${baseline.lane} (kept ${formatDuration(options.retentionMs)} for rollback)`,
    durationMs: options.retentionMs,
  });
  return {
    upgradeId: upgrade.id,
    baseline,
    candidate,
    observeMs: options.observeMs,
    intervalMs: options.intervalMs,
    maxFailedChecks: options.maxFailedChecks,
    failureMode: options.failureMode,
    flags: options.flags,
    allowContract: options.allowContract,
    retentionMs: options.retentionMs,
    keepWarmMs: options.keepWarmMs,
    resumeObserving: options.resumeObserving,
    gates: options.gates,
    canarySteps: options.steps,
    probes: options.probes,
    analysis: options.analysis,
    steps,
  };
}

function assertPromotable(upgrade: UpgradeSummary, options: PromotionOptions): void {
  const subject = `upgrade ${upgrade.id}`;
  if (options.upgradeId !== undefined && options.upgradeId !== upgrade.id) {
    throw promotionErrors.create('WVO_INVALID_PROMOTION_OPTION', `options name upgrade ${options.upgradeId}, summary is ${upgrade.id}`, {
      subject: 'upgradeId',
    });
  }
  if (upgrade.baseline.lane === upgrade.candidate.lane) {
    throw promotionErrors.create('WVO_INVALID_PROMOTION_OPTION', `candidate and baseline are the same lane "${upgrade.baseline.lane}"`, {
      subject: 'candidate.lane',
      hint: 'the candidate must run in the idle lane (blue ↔ green)',
    });
  }
  const step = (name: string) => upgrade.steps.find((s) => s.name === name);
  const failed = upgrade.steps.find((s) => s.status === 'failed');
  if (failed || upgrade.outcome === 'failed') {
    throw promotionErrors.create('WVO_UPGRADE_FAILED', `upgrade ${upgrade.id} failed${failed ? ` at step ${failed.name}` : ''}`, {
      subject,
      hint: 'fix the failure and run `wvo upgrade` again',
    });
  }
  const test = step('test');
  const prebuilt = upgrade.source === 'image' && test?.status === 'skipped';
  if (!test || (test.status !== 'ok' && !prebuilt)) {
    throw promotionErrors.create('WVO_TESTS_SKIPPED', `upgrade ${upgrade.id} was not tested (test step: ${test?.status ?? 'absent'})`, {
      subject,
      hint: 'rerun `wvo upgrade` without --skip-tests; promotion needs green tests',
    });
  }
  const compat = step('schema-compat');
  if ((!compat || compat.status !== 'ok') && !options.allowContract) {
    throw promotionErrors.create(
      'WVO_CONTRACT_MIGRATION',
      `upgrade ${upgrade.id} is not proven rollback-safe (schema-compat: ${compat?.status ?? 'absent'})`,
      {
        subject,
        hint: 'the old code may not run on the migrated state; pass --allow-contract to promote anyway (rollback may then need a restore)',
      },
    );
  }
}
