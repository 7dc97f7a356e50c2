import type { Clock } from '../../../../common/src/clock.js';
import { isWvoError, toErrorJson, type WvoError } from '../../../../common/src/errors.js';
import { harnessErrors } from '../errors.js';
import type { UpgradeEvent } from '../upgrade-context.js';
import type { StepName, StepRecord, StepRecorder } from '../steps.js';
import type { UpgradeStep } from './step.js';

export interface StepRunnerOptions {
  recorder: StepRecorder;
  clock: Clock;
  emit: (event: UpgradeEvent) => void;
  /** Ctrl-C: checked as each step starts; whatever a step throws after it is reported as the interrupt. */
  signal?: AbortSignal;
}

export function interrupted(step: StepName, cause?: unknown): WvoError {
  return harnessErrors.create('WVO_INTERRUPTED', `interrupted during ${step}`, {
    subject: step,
    hint: 'nothing was promoted; shadow lanes, the stage and the lock are cleaned up',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Runs one step at a time: announces it, times it, records its status and detail in steps.json
 * as it ends, and records `failed` (then rethrows) when it throws.
 */
export class StepRunner {
  constructor(private readonly o: StepRunnerOptions) {}

  async run<I, O>(step: UpgradeStep<I, O>, input: I): Promise<O> {
    const { name } = step;
    const { clock, emit, recorder, signal } = this.o;
    emit({ type: 'step-start', name });
    const started = clock.now();
    const startedAt = new Date(started).toISOString();
    const say = (message: string) => emit({ type: 'message', name, message });
    try {
      if (signal?.aborted) throw interrupted(name);
      const done = await step.run(input, say);
      const record: StepRecord = {
        name,
        status: done.status ?? 'ok',
        started_at: startedAt,
        duration_ms: clock.now() - started,
        detail: done.detail ?? {},
      };
      recorder.record(record);
      emit({ type: 'step-end', step: record });
      return done.output;
    } catch (caught) {
      // Whatever an interrupted step threw (an aborted MCP call, say), the cause is the Ctrl-C.
      const error = signal?.aborted && !(isWvoError(caught) && caught.code === 'WVO_INTERRUPTED') ? interrupted(name, caught) : caught;
      const record: StepRecord = {
        name,
        status: 'failed',
        started_at: startedAt,
        duration_ms: clock.now() - started,
        detail: { error: toErrorJson(error) },
      };
      recorder.record(record);
      emit({ type: 'step-end', step: record });
      throw error;
    }
  }
}
