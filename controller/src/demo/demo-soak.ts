import { silentLogger } from '../../../common/src/logger.js';
import type { WvoConfig } from '../config/index.js';
import { openSoak, WORKER_TOKEN_ENV } from '../operations/index.js';
import type { LaneRuntime } from '../runtime/index.js';
import { JournalClient } from '../soak/index.js';

export interface DemoSoakInput {
  readonly config: WvoConfig;
  readonly projectRoot: string;
  readonly stateRoot: string;
  readonly runtime: LaneRuntime;
  readonly upgradeId: string;
  /** How long the soak replays once its lanes are up (the demo's writer agents keep writing). */
  readonly soakMs: number;
  readonly say: (line: string) => void;
}

export interface DemoSoakResult {
  readonly id: string;
  readonly state: string;
  readonly replayed: number;
  /** Over the calls made after the lanes were up (steady state, as bench/soak.ts measures). */
  readonly lagP99Ms: number;
  /** Calls made while the lanes started, replayed as a catch-up (not in the lag). */
  readonly backlog: number;
  readonly answerDiffs: number;
  readonly stateDiffs: number;
  readonly checkpoints: number;
  /** From the soak's start to its last checkpoint, clean (what `requireSoak` measures). */
  readonly seconds: number;
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : 0);

/**
 * A short dual-write soak before promoting: the soak operations fork the live state, start a
 * baseline replica and the candidate in sandbox, and replay the live journal (the demo's writer
 * agents' calls) to both for `soakMs`; once it has caught up with the journal head of that moment,
 * it is stopped (one last checkpoint).
 */
export async function demoSoak(input: DemoSoakInput): Promise<DemoSoakResult> {
  const lags: number[] = [];
  let backlog = 0;
  let upAt = Number.POSITIVE_INFINITY;
  let lanesUp: () => void = () => undefined;
  const up = new Promise<void>((resolve) => (lanesUp = () => ((upAt = Math.min(upAt, Date.now())), resolve())));
  const soak = openSoak({
    config: input.config,
    projectRoot: input.projectRoot,
    stateRoot: input.stateRoot,
    runtime: input.runtime,
    logger: silentLogger(),
    onProgress: (_record, what) => {
      if (what === 'progress') lanesUp();
    },
    // Lag of the calls made after the first progress (lanes up, first page replayed); earlier ones are the catch-up backlog.
    onReplayed: (_seq, lagMs) => {
      if (Date.now() - lagMs >= upAt) lags.push(lagMs);
      else backlog += 1;
    },
  });
  try {
    const { record } = await soak.operations.begin({ upgradeId: input.upgradeId, checkpointEvery: '2s' });
    input.say(`soak ${record.id}: forked ${record.live_lane} at journal seq ${record.fork_seq}; starting the replica and the candidate in sandbox`);
    const driving = soak.operations.drive(record.id);
    // The first progress is saved once both lanes answer (or the drive ends early: a failure, shown below).
    await Promise.race([up, driving]);
    await Promise.race([new Promise((resolve) => setTimeout(resolve, input.soakMs)), driving]);
    // Caught up: everything the live journal holds now has been replayed on both lanes.
    const { head } = await new JournalClient(record.live_url, process.env[WORKER_TOKEN_ENV]).head();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const now = soak.store.find(record.id)!;
      if (now.state !== 'running' || now.last_seq >= head || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await soak.operations.stop(record.id);
    const ended = await driving;
    if (ended.error) input.say(`soak failed: ${ended.error.code} ${ended.error.message}`);
    const checkpointed = ended.checkpoint_at - ended.started_at;
    return {
      id: ended.id,
      state: ended.state,
      replayed: ended.replayed,
      lagP99Ms: percentile(lags.sort((a, b) => a - b), 99),
      backlog,
      answerDiffs: ended.answer_diffs,
      stateDiffs: ended.state_diffs,
      checkpoints: ended.checkpoints,
      seconds: Math.max(0, checkpointed) / 1000,
    };
  } finally {
    soak.close();
  }
}
