import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/src/clock.js';
import { WvoError } from '../../common/src/errors.js';
import { StepRecorder } from '../../controller/src/harness/steps.js';
import { runLayout } from '../../controller/src/harness/steps/layout.js';
import { StepRunner } from '../../controller/src/harness/steps/runner.js';
import type { UpgradeStep } from '../../controller/src/harness/steps/step.js';
import type { UpgradeEvent } from '../../controller/src/harness/upgrade-context.js';

/** A runner over an in-memory recorder (no steps.json file) and a clock that moves when told. */
function rig(signal?: AbortSignal) {
  const clock = new ManualClock(Date.parse('2026-01-02T03:04:05.000Z'));
  const recorder = new StepRecorder('run-1', undefined, clock);
  const events: UpgradeEvent[] = [];
  const runner = new StepRunner({ recorder, clock, emit: (event) => events.push(event), ...(signal ? { signal } : {}) });
  return { clock, recorder, events, runner };
}

describe('StepRunner', () => {
  it('returns the step output, records status, detail and duration, and emits start/message/end', async () => {
    const { clock, recorder, events, runner } = rig();
    const double: UpgradeStep<{ n: number }, number> = {
      name: 'build',
      async run({ n }, say) {
        say('doubling');
        clock.advance(250);
        return { status: 'warning', detail: { n }, output: n * 2 };
      },
    };
    expect(await runner.run(double, { n: 21 })).toBe(42);
    expect(recorder.steps).toEqual([
      { name: 'build', status: 'warning', started_at: '2026-01-02T03:04:05.000Z', duration_ms: 250, detail: { n: 21 } },
    ]);
    expect(events).toEqual([
      { type: 'step-start', name: 'build' },
      { type: 'message', name: 'build', message: 'doubling' },
      { type: 'step-end', step: recorder.steps[0] },
    ]);
    expect(recorder.outcome()).toBe('warnings');
  });

  it('records `failed` with the coded error and rethrows the same error', async () => {
    const { recorder, runner } = rig();
    const boom = new WvoError('WVO_BUILD_FAILED', 'no', { subject: 'stage' });
    const failing: UpgradeStep<void, never> = { name: 'build', run: async () => Promise.reject(boom) };
    await expect(runner.run(failing, undefined)).rejects.toBe(boom);
    expect(recorder.steps[0]).toMatchObject({ name: 'build', status: 'failed', detail: { error: { code: 'WVO_BUILD_FAILED', subject: 'stage' } } });
    expect(recorder.outcome()).toBe('failed');
  });

  it('does not start a step once interrupted, and reports whatever an interrupted step threw as the interrupt', async () => {
    const controller = new AbortController();
    const { recorder, runner } = rig(controller.signal);
    let ran = 0;
    const abortsMidway: UpgradeStep<void, void> = {
      name: 'shadow',
      async run() {
        ran += 1;
        controller.abort();
        throw new Error('socket hang up');
      },
    };
    await expect(runner.run(abortsMidway, undefined)).rejects.toMatchObject({ code: 'WVO_INTERRUPTED', subject: 'shadow' });
    await expect(runner.run(abortsMidway, undefined)).rejects.toMatchObject({ code: 'WVO_INTERRUPTED', subject: 'shadow' });
    expect(ran).toBe(1);
    expect(recorder.steps.map((s) => [s.name, s.status, (s.detail.error as { code: string }).code])).toEqual([
      ['shadow', 'failed', 'WVO_INTERRUPTED'],
      ['shadow', 'failed', 'WVO_INTERRUPTED'],
    ]);
  });
});

describe('runLayout', () => {
  it('keeps a run under tmp/wv-upgrade-<id> and experiments/mcp/upgrade/<id>, with four snapshot copies', () => {
    const layout = runLayout('/p', 'r1');
    expect(layout).toMatchObject({
      artifactsDir: '/p/experiments/mcp/upgrade/r1',
      stepsFile: '/p/experiments/mcp/upgrade/r1/steps.json',
      stageRoot: '/p/tmp/wv-upgrade-r1',
      snapshots: {
        baseline: '/p/tmp/wv-upgrade-r1/snapshots/baseline',
        replica: '/p/tmp/wv-upgrade-r1/snapshots/replica',
        candidate: '/p/tmp/wv-upgrade-r1/snapshots/candidate',
        compat: '/p/tmp/wv-upgrade-r1/snapshots/compat',
      },
    });
    expect(layout.laneName('baseline')).toBe('up-r1-baseline');
  });
});
