import type { Logger } from '../../../../common/src/logger.js';
import type { LaneInfo, LaneRuntime, LaneSpec, StartOptions } from '../../runtime/index.js';
import { RuntimeError } from '../../runtime/index.js';

/** A lane that answered /readyz, so it has a URL. */
export type ReadyLane = LaneInfo & { url: string };

/**
 * The lanes a run has started and not yet removed, so a run that ends in any way (failure,
 * Ctrl-C) removes every one of them.
 */
export class LaneTracker {
  private readonly names = new Set<string>();

  constructor(
    private readonly runtime: LaneRuntime,
    private readonly logger: Logger,
  ) {}

  /** Tracked before it starts: a start that fails halfway still leaves a lane to remove. */
  async start(spec: LaneSpec, options: StartOptions): Promise<ReadyLane> {
    this.track(spec.name);
    const lane = await this.runtime.startLane(spec, options);
    if (!lane.url) {
      throw new RuntimeError('WVO_LANE_NOT_READY', `lane ${spec.name} started but reports no URL`, {
        subject: spec.name,
        hint: 'The runtime returned a ready lane without an address; check `wvo lanes`.',
      });
    }
    return { ...lane, url: lane.url };
  }

  track(name: string): void {
    this.names.add(name);
  }

  untrack(name: string): void {
    this.names.delete(name);
  }

  /** Remove lanes (a failure is logged, never thrown: cleanup must not mask the run's outcome). */
  async remove(names: readonly string[]): Promise<void> {
    await Promise.all(
      names.map((name) =>
        this.runtime.removeLane(name, { timeoutMs: 5_000 }).catch((error: unknown) => {
          this.logger.warn({ lane: name, err: error }, 'could not remove a shadow lane');
        }),
      ),
    );
    for (const name of names) this.untrack(name);
  }

  async removeAll(): Promise<void> {
    if (this.names.size > 0) await this.remove([...this.names]);
  }
}
