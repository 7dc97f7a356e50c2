import type { StateSection } from '../state/index.js';
import type { SoakCheckpoint } from './soak-record.js';

/** A checkpoint whose copies are taken (both lanes idle at `seq`) and whose diff is still running. */
export type CopiedCheckpoint = Omit<SoakCheckpoint, 'reported' | 'state'>;

export type CheckpointOutcome = { readonly checkpoint: CopiedCheckpoint } & ({ readonly section: StateSection } | { readonly error: unknown });

/**
 * The soak's one checkpoint diff in flight (it runs off the event loop while replay goes on).
 * The runner records its outcome at its next step once `ready`; a new checkpoint first waits for
 * the one in flight, so checkpoints are recorded in order and the newest copies are never pruned
 * under a running diff.
 */
interface Running {
  readonly checkpoint: CopiedCheckpoint;
  readonly done: Promise<void>;
  outcome?: CheckpointOutcome;
}

export class CheckpointInFlight {
  private current: Running | undefined;

  start(checkpoint: CopiedCheckpoint, diff: Promise<StateSection>): void {
    if (this.current) throw new Error('a checkpoint diff is already in flight');
    const current: Running = {
      checkpoint,
      done: diff.then(
        (section) => void (current.outcome = { checkpoint, section }),
        (error: unknown) => void (current.outcome = { checkpoint, error }),
      ),
    };
    this.current = current;
  }

  get running(): boolean {
    return this.current !== undefined && this.current.outcome === undefined;
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  /** Settles (never rejects) when the diff in flight has an outcome; at once when none. */
  get done(): Promise<void> {
    return this.current?.done ?? Promise.resolve();
  }

  /** The finished outcome, handed over once (undefined while running or when none). */
  take(): CheckpointOutcome | undefined {
    const outcome = this.current?.outcome;
    if (outcome) this.current = undefined;
    return outcome;
  }

  /** Waits for the diff in flight and hands its outcome over. */
  async finish(): Promise<CheckpointOutcome | undefined> {
    await this.done;
    return this.take();
  }
}
