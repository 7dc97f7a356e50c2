import type { Logger } from '../../../common/src/logger.js';
import type { SoakRecord, SoakStatus } from '../soak/index.js';
import { openSoak, type SoakWiringInput } from './soak-wiring.js';

/**
 * `wvo serve`'s soaks: started through the API and driven in the background by this process; a
 * soak left running by a dead driver (a CLI killed, a controller restarted) is resumed at start.
 */
export class SoakDriver {
  private readonly wiring: ReturnType<typeof openSoak>;
  private readonly abort = new AbortController();
  private readonly driving = new Map<string, Promise<SoakRecord>>();

  constructor(
    input: SoakWiringInput,
    private readonly logger: Logger,
  ) {
    this.wiring = openSoak(input);
  }

  /** The newest soak's record (metrics read it at scrape time). */
  current(): SoakRecord | undefined {
    return this.wiring.operations.find();
  }

  /** Fork (or resume an orphan) and drive it in the background; answers once forked. */
  async start(input: unknown): Promise<{ soak: SoakRecord; resumed: boolean }> {
    const { record, resumed } = await this.wiring.operations.begin(input);
    this.drive(record.id);
    return { soak: record, resumed };
  }

  /** At serve start: a running soak whose driver is gone is taken over. */
  async resumeOrphan(): Promise<SoakRecord | undefined> {
    const running = this.wiring.store.running();
    if (!running || this.driving.has(running.id)) return undefined;
    try {
      const { soak, resumed } = await this.start({});
      if (resumed) this.logger.info({ soak: soak.id, last_seq: soak.last_seq }, 'resumed a soak whose driver was gone');
      return soak;
    } catch (error) {
      this.logger.info({ err: error }, 'running soak not resumed (its driver lives)');
      return undefined;
    }
  }

  private drive(id: string): void {
    if (this.driving.has(id)) return;
    const run = this.wiring.operations
      .drive(id, this.abort.signal)
      .catch((error: unknown) => {
        this.logger.error({ err: error, soak: id }, 'soak driver crashed');
        return this.wiring.store.find(id)!;
      })
      .finally(() => this.driving.delete(id));
    this.driving.set(id, run);
  }

  status(id?: string): SoakStatus {
    return this.wiring.operations.status(id === 'current' ? undefined : id);
  }

  stop(id?: string): Promise<SoakRecord> {
    return this.wiring.operations.stop(id === 'current' ? undefined : id);
  }

  /** Stop driving (the soak stays `running`, to be resumed by the next controller), close the store. */
  async close(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.driving.values());
    this.wiring.close();
  }
}
