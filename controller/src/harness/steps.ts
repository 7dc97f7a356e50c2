import { z } from 'zod';
import type { Clock } from '../../../common/src/clock.js';
import { writeJsonAtomic } from '../../../common/src/json-file.js';

/** Step names of `wvo upgrade`, in the order they run (DESIGN §4); each step is a file in steps/. */
export const STEP_NAMES = [
  'preflight',
  'lock',
  'stage',
  'build',
  'test',
  'snapshot',
  'shadow',
  'schema-compat',
  'tool-surface',
  'summary',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** `failed` is recorded only on the step whose hard failure stopped the run. */
export const STEP_STATUS = ['ok', 'skipped', 'warning', 'failed'] as const;
export type StepStatus = (typeof STEP_STATUS)[number];

export const stepRecordSchema = z.object({
  name: z.enum(STEP_NAMES),
  status: z.enum(STEP_STATUS),
  started_at: z.string(),
  duration_ms: z.number().nonnegative(),
  detail: z.record(z.string(), z.unknown()),
});
export type StepRecord = z.infer<typeof stepRecordSchema>;

export const stepsFileSchema = z.object({
  id: z.string(),
  started_at: z.string(),
  finished_at: z.string().optional(),
  outcome: z.enum(['running', 'passed', 'warnings', 'failed']),
  steps: z.array(stepRecordSchema),
});
export type StepsFile = z.infer<typeof stepsFileSchema>;

/** What a step body returns: its status (default ok) and detail for steps.json. */
export interface StepOutcome {
  status?: Exclude<StepStatus, 'failed'>;
  detail?: Record<string, unknown>;
}

/**
 * Records each step as it ends and rewrites steps.json after every step, so a crash leaves a
 * file that says how far the run got.
 */
export class StepRecorder {
  readonly steps: StepRecord[] = [];
  private readonly startedAt: string;

  constructor(
    readonly id: string,
    private readonly file: string | undefined,
    private readonly clock: Clock,
  ) {
    this.startedAt = new Date(clock.now()).toISOString();
  }

  record(step: StepRecord): void {
    this.steps.push(step);
    this.flush('running');
  }

  /** Highest severity so far: `warnings` when any step warned. */
  outcome(): 'passed' | 'warnings' | 'failed' {
    if (this.steps.some((s) => s.status === 'failed')) return 'failed';
    if (this.steps.some((s) => s.status === 'warning')) return 'warnings';
    return 'passed';
  }

  finish(): StepsFile {
    return this.flush(this.outcome(), new Date(this.clock.now()).toISOString());
  }

  private flush(outcome: StepsFile['outcome'], finishedAt?: string): StepsFile {
    const content: StepsFile = {
      id: this.id,
      started_at: this.startedAt,
      ...(finishedAt ? { finished_at: finishedAt } : {}),
      outcome,
      steps: this.steps,
    };
    if (this.file) writeJsonAtomic(this.file, content);
    return content;
  }
}
