import { readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../../common/src/clock.js';
import { isWvoError } from '../../../common/src/errors.js';
import type { Logger } from '../../../common/src/logger.js';
import type { GroupableDiff } from '../shadow/index.js';
import type { LaneRuntime } from '../runtime/index.js';
import { compareEntry } from './answer-compare.js';
import { restoreLaneDir, saveCheckpointCopies } from './checkpoint.js';
import { CheckpointDiffThread, type CheckpointDiff } from './checkpoint-diff.js';
import { CheckpointInFlight } from './checkpoint-in-flight.js';
import { soakErrors } from './errors.js';
import { JournalClient, type LiveEntry } from './journal-client.js';
import { entryIdentity, newEntries, pullAfter } from './journal-order.js';
import { IDLE_SAVE_MS, longPollWait, nextIdleWait, PagePuller } from './page-puller.js';
import { LaneDown, ReplayLane } from './replay-lane.js';
import { laneDirs, laneHead, SOAK_LANE_KEYS, startSoakLane, type SoakLaneKey } from './soak-lanes.js';
import type { SoakAnswerDiff, SoakCheckpoint, SoakRecord, SoakState } from './soak-record.js';
import type { SoakStore } from './soak-store.js';

export interface SoakRunnerDeps {
  readonly store: SoakStore;
  readonly runtime: LaneRuntime;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The workers' admin token (journal reads on live, flag replays and heads on the soak lanes). */
  readonly token?: string;
  readonly readyTimeoutMs: number;
  /** Lane restarts without progress before the soak fails with WVO_SOAK_LANE_CRASHED. */
  readonly maxRestarts?: number;
  /** Called after every save (progress, checkpoints): the API's events, the CLI's lines. */
  readonly onProgress?: (record: SoakRecord, what: 'progress' | 'checkpoint' | 'restart' | 'end') => void;
  /**
   * Each entry once both lanes answered: its lag (live write → replayed), how long the replay
   * took, and its lag when its page's response arrived (the pull's share; bench/soak.ts splits the tail).
   */
  readonly onReplayed?: (seq: number, lagMs: number, replayMs: number, seenLagMs: number) => void;
  /** A checkpoint's integrity check and diff (default: in a worker thread; tests pass a slow one). */
  readonly diffCheckpoint?: CheckpointDiff;
}

/**
 * Drives one soak: keeps the two sandbox lanes up, pulls the live journal after the last replayed
 * seq, replays each entry to both lanes in order, compares answers, checks parity at checkpoints,
 * and persists every step in controller.db. Reads only: the live lane is never waited on or locked.
 */
export class SoakRunner {
  private readonly lanes = new Map<SoakLaneKey, ReplayLane>();
  private readonly journal: (url: string) => JournalClient;
  private floor: Promise<void> = Promise.resolve();
  private readonly inFlight = new CheckpointInFlight();
  private diff: CheckpointDiff = () => Promise.reject(new Error('no soak is being driven'));

  constructor(private readonly deps: SoakRunnerDeps) {
    this.journal = (url) => new JournalClient(url, deps.token);
  }

  private owner() {
    return { pid: process.pid, host: hostname(), heartbeat_at: this.deps.clock.now() };
  }

  private save(record: SoakRecord, extra: { diffs?: SoakAnswerDiff[]; checkpoint?: SoakCheckpoint } = {}): SoakRecord {
    const now = this.deps.clock.now();
    const saved = this.deps.store.saveWith({ ...record, owner: record.state === 'running' ? this.owner() : null, updated_at: now }, extra);
    // Answer diffs are counted from the rows: a call compared again after a restart counts once.
    const answerDiffs = this.deps.store.reportedAnswerDiffs(record.id);
    return answerDiffs === saved.answer_diffs ? saved : this.deps.store.save({ ...saved, answer_diffs: answerDiffs });
  }

  /** Until the soak stops, finishes or fails; `signal` (Ctrl-C, server close) leaves it running for a later resume. */
  async drive(id: string, signal?: AbortSignal): Promise<SoakRecord> {
    let record = this.deps.store.find(id)!;
    const journal = this.journal(record.live_url);
    const pull = new PagePuller(journal, () => this.deps.clock.now());
    const diffThread = this.deps.diffCheckpoint ? undefined : new CheckpointDiffThread();
    this.diff = this.deps.diffCheckpoint ?? diffThread!.diff;
    try {
      record = await this.ensureLanes(record);
      let sinceCheckpoint = record.last_seq - record.checkpoint_seq;
      let restartsAt: { seq: number; count: number } = { seq: record.last_seq, count: 0 };
      let idleMs = 0;
      // The first loop saves (its 'progress' says the lanes are up); idle ones after it, every IDLE_SAVE_MS.
      let savedAt = Number.NEGATIVE_INFINITY;
      for (;;) {
        record = await this.recordCheckpoint(record);
        if (signal?.aborted) return this.save(await this.finishCheckpoint(record));
        const now = this.deps.clock.now();
        if (this.deps.store.stopRequested(id)) return await this.end(journal, await this.checkpoint(record, sinceCheckpoint > 0), 'stopped');
        if (record.ends_at !== null && now >= record.ends_at) return await this.end(journal, await this.checkpoint(record, true), 'finished');
        // A long-poll: an idle live lane answers as soon as a commit brings an entry.
        const wait = longPollWait(record.ends_at, now);
        const pulled = pull.take(pullAfter(record), record.settings.pageSize, wait, signal);
        pulled.catch(() => undefined);
        if (this.inFlight.running) {
          // A checkpoint's diff that ends while the pull is held is recorded at once.
          await Promise.race([pulled.then(() => undefined, () => undefined), this.inFlight.done]);
          record = await this.recordCheckpoint(record);
        }
        const page = await pulled.catch((error: unknown) => {
          if (signal?.aborted) return undefined;
          throw error;
        });
        if (!page) continue;
        const fresh = newEntries(record, page.entries);
        // The next page is asked for now, while this one replays: a busy live lane answers the
        // request after its queue (or at the next commit), and that wait overlaps the replay.
        if (fresh.length > 0) pull.prefetch(pullAfter({ last_seq: fresh.at(-1)!.seq, last_entry: entryIdentity(fresh.at(-1)!) }), record.settings.pageSize, wait);
        record = { ...record, lag_calls: Math.max(0, page.head - record.last_seq), lag_ms: lagMs(fresh[0], this.deps.clock.now()) };
        if (record.lag_calls > record.settings.maxLagCalls) {
          throw soakErrors.create('WVO_SOAK_LAGGING', `the soak is ${record.lag_calls} calls behind the live journal (limit ${record.settings.maxLagCalls})`, {
            subject: 'maxLagCalls',
            details: { lag_calls: record.lag_calls, lag_ms: record.lag_ms },
            hint: 'The candidate or the replica replays slower than live writes: start the soak again with a higher --max-lag, or on a faster host.',
          });
        }
        const diffs: SoakAnswerDiff[] = [];
        for (const entry of fresh) {
          let outcomes;
          const replayStart = this.deps.clock.now();
          try {
            outcomes = await this.replayBoth(entry);
          } catch (error) {
            if (!(error instanceof LaneDown)) throw error;
            restartsAt = restartsAt.seq === record.last_seq ? { seq: restartsAt.seq, count: restartsAt.count + 1 } : { seq: record.last_seq, count: 1 };
            if (restartsAt.count > (this.deps.maxRestarts ?? 3)) {
              throw soakErrors.create('WVO_SOAK_LANE_CRASHED', `${error.message}; restarted ${restartsAt.count - 1} time(s) without getting past entry ${record.last_seq + 1}`, {
                subject: error.lane,
                hint: `Read the lane's log (\`wvo lane logs ${error.lane}\`): entry ${record.last_seq + 1} crashes it every time.`,
              });
            }
            this.deps.logger.warn({ lane: error.lane, seq: entry.seq }, 'soak lane down: restarting both lanes from the last checkpoint');
            record = this.save(record, { diffs: diffs.splice(0) });
            // Copies taken before the crash are good: their diff is recorded, then the newest restarts both.
            record = await this.finishCheckpoint(record);
            record = await this.restoreFromCheckpoint({ ...record, lane_restarts: record.lane_restarts + 1 });
            this.deps.onProgress?.(record, 'restart');
            sinceCheckpoint = 0;
            break;
          }
          const replayedAt = this.deps.clock.now();
          this.deps.onReplayed?.(entry.seq, lagMs(entry, replayedAt), replayedAt - replayStart, lagMs(entry, page.received_at));
          const compared = compareEntry(entry, outcomes.replica, outcomes.candidate);
          if (compared.diffs.length > 0) diffs.push(answerDiff(record.id, entry, compared.diffs, compared.reported, this.deps.clock.now()));
          record = {
            ...record,
            last_seq: entry.seq,
            last_entry: entryIdentity(entry),
            replayed: entry.seq - record.fork_seq,
            lag_calls: Math.max(0, page.head - entry.seq),
            lag_ms: lagMs(entry, this.deps.clock.now()),
            first_diff_at: record.first_diff_at ?? (compared.reported > 0 ? this.deps.clock.now() : null),
          };
          sinceCheckpoint += 1;
          if (sinceCheckpoint >= record.settings.checkpointCalls) {
            record = this.save(record, { diffs: diffs.splice(0) });
            record = await this.startCheckpoint(record);
            sinceCheckpoint = 0;
          }
          record = await this.recordCheckpoint(record);
        }
        // An idle loop saves only as often as its heartbeat needs (each save is a synchronous=FULL
        // write to controller.db); progress is saved as soon as there is some.
        if (fresh.length > 0 || this.deps.clock.now() - savedAt >= IDLE_SAVE_MS) {
          record = this.save(record, { diffs: diffs.splice(0) });
          savedAt = this.deps.clock.now();
          this.deps.onProgress?.(record, 'progress');
        }
        // A timed checkpoint is due once the previous one is recorded (its time is its copy's).
        if (!this.inFlight.busy && this.deps.clock.now() - record.checkpoint_at >= record.settings.checkpointMs) {
          record = await this.startCheckpoint(record);
          sinceCheckpoint = 0;
        }
        // Entries keep coming: pull again at once. Idle, against a worker that held the pull
        // (long-poll): pull again at once too. An older worker answers at once: back off from a
        // short wait up to pollMs, so a call after a quiet spell is seen soon without polling hard.
        if (fresh.length === 0 && page.waited_ms !== undefined && wait > 0) idleMs = 0;
        else if (fresh.length === 0) {
          idleMs = nextIdleWait(idleMs, record.settings.pollMs);
          await this.deps.clock.sleep(idleMs, signal).catch(() => undefined);
        } else idleMs = 0;
      }
    } catch (error) {
      // A diff still reading the copies finishes before end() deletes them; its outcome is dropped.
      await this.inFlight.finish();
      if (!isWvoError(error)) throw error;
      this.deps.logger.error({ code: error.code, soak: id }, `soak failed: ${error.message}`);
      return await this.end(journal, record, 'failed', { code: error.code, message: error.message, ...(error.subject ? { subject: error.subject } : {}) });
    } finally {
      await this.inFlight.finish();
      await diffThread?.close();
      await pull.settle();
      await this.floor;
      await Promise.all([...this.lanes.values()].map((lane) => lane.close()));
      this.lanes.clear();
    }
  }

  private async replayBoth(entry: LiveEntry) {
    const [replica, candidate] = await Promise.all([this.lanes.get('replica')!.replay(entry), this.lanes.get('candidate')!.replay(entry)]);
    return { replica, candidate };
  }

  /**
   * Lanes that are up and agree on their journal head go on from it (a controller that died
   * between replaying and recording loses nothing); anything else restarts both from the last
   * checkpoint.
   */
  private async ensureLanes(record: SoakRecord): Promise<SoakRecord> {
    const urls = new Map<SoakLaneKey, string>();
    for (const key of SOAK_LANE_KEYS) {
      const info = await this.deps.runtime.getLane(record.lanes[key]).catch(() => undefined);
      if (info?.status === 'ready' && info.url) urls.set(key, info.url);
    }
    if (urls.size === 2) {
      const heads = await Promise.all(SOAK_LANE_KEYS.map((key) => laneHead(urls.get(key)!, this.deps.token)));
      const [a, b] = heads;
      if (a !== null && a !== undefined && a === b && a >= record.last_seq) {
        for (const key of SOAK_LANE_KEYS) this.lanes.set(key, new ReplayLane(record.lanes[key], urls.get(key)!, this.deps.token));
        if (a === record.last_seq) return record;
        // Replayed but not recorded: go on after it; the entry at `a` is not re-checked for a rewrite.
        this.deps.logger.info({ soak: record.id, from: record.last_seq, to: a }, 'soak lanes are ahead of the record: resuming from their head');
        return this.save({ ...record, last_seq: a, last_entry: null, replayed: a - record.fork_seq });
      }
    }
    return this.restoreFromCheckpoint(record);
  }

  /** Both lanes removed, their directories restored from the newest checkpoint, started again. */
  private async restoreFromCheckpoint(record: SoakRecord): Promise<SoakRecord> {
    await Promise.all([...this.lanes.values()].map((lane) => lane.close()));
    this.lanes.clear();
    const checkpoint = this.deps.store.checkpoints(record.id).at(-1);
    if (!checkpoint) throw soakErrors.create('WVO_SOAK_LANE_CRASHED', `soak ${record.id} has no checkpoint to restart its lanes from`, { subject: record.id });
    await Promise.all(SOAK_LANE_KEYS.map((key) => this.deps.runtime.removeLane(record.lanes[key], { timeoutMs: 5_000 }).catch(() => undefined)));
    const dirs = laneDirs(record.dir);
    for (const key of SOAK_LANE_KEYS) await restoreLaneDir(join(checkpoint.dir, key), dirs[key]);
    for (const key of SOAK_LANE_KEYS) {
      const url = await startSoakLane(this.deps.runtime, record, key, { ...(this.deps.token ? { token: this.deps.token } : {}), readyTimeoutMs: this.deps.readyTimeoutMs });
      this.lanes.set(key, new ReplayLane(record.lanes[key], url, this.deps.token));
    }
    return this.save({ ...record, last_seq: checkpoint.seq, last_entry: checkpoint.entry, replayed: checkpoint.seq - record.fork_seq });
  }

  /** A checkpoint now, recorded before returning (the soak's stop and end). */
  private async checkpoint(record: SoakRecord, due: boolean): Promise<SoakRecord> {
    record = await this.finishCheckpoint(record);
    if (!due) return record;
    return this.finishCheckpoint(await this.startCheckpoint(record));
  }

  /**
   * Copies of both lanes at `record.last_seq` (they are idle: the loop replays one entry at a
   * time), then their integrity check and parity off the event loop (a worker thread) while the
   * loop replays on: the same seq on both sides, and exactly what a crashed lane would restart
   * from once recorded. A checkpoint still in flight is recorded first.
   */
  private async startCheckpoint(record: SoakRecord): Promise<SoakRecord> {
    record = await this.finishCheckpoint(record);
    const now = this.deps.clock.now();
    const dest = join(record.dir, 'checkpoints', `${record.last_seq}-${now}`);
    const copies = await saveCheckpointCopies(laneDirs(record.dir), dest, this.deps.logger);
    const diff = this.diff(copies, record.database);
    this.inFlight.start({ soak_id: record.id, seq: record.last_seq, entry: record.last_entry, at: now, dir: dest }, diff);
    this.deps.logger.debug({ soak: record.id, seq: record.last_seq, copy_ms: this.deps.clock.now() - now }, 'soak checkpoint copied');
    return record;
  }

  private async finishCheckpoint(record: SoakRecord): Promise<SoakRecord> {
    await this.inFlight.done;
    return this.recordCheckpoint(record);
  }

  /**
   * A finished diff's checkpoint row and counts (nothing while it runs). Then older copies go
   * (a restart takes the newest recorded checkpoint) and the live floor moves up in the
   * background (a busy live lane answers late; the replay does not wait for it). A failed
   * integrity check or diff fails the soak, as it did inline; that checkpoint is never recorded.
   */
  private async recordCheckpoint(record: SoakRecord): Promise<SoakRecord> {
    const outcome = this.inFlight.take();
    if (!outcome) return record;
    if ('error' in outcome) throw outcome.error;
    const { checkpoint: copied, section } = outcome;
    const checkpoint: SoakCheckpoint = { ...copied, reported: section.reported, state: section };
    const next = this.save(
      {
        ...record,
        state_diffs: section.reported,
        first_diff_at: record.first_diff_at ?? (section.reported > 0 ? this.deps.clock.now() : null),
        checkpoints: record.checkpoints + 1,
        checkpoint_seq: copied.seq,
        checkpoint_at: copied.at,
      },
      { checkpoint },
    );
    await this.pruneCheckpoints(record.dir, copied.dir);
    this.deps.logger.debug({ soak: record.id, seq: copied.seq, took_ms: this.deps.clock.now() - copied.at }, 'soak checkpoint');
    this.setFloor(record.live_url, copied.seq + 1);
    this.deps.onProgress?.(next, 'checkpoint');
    return next;
  }

  /** Floor writes in order, off the replay path; `end` waits for them before clearing the floor. */
  private setFloor(url: string, seq: number | null): Promise<void> {
    this.floor = this.floor.then(() =>
      this.journal(url)
        .setFloor(seq)
        .catch((error: unknown) => {
          if (seq !== null) this.deps.logger.warn({ err: error }, 'could not move the live journal floor');
        }),
    );
    return this.floor;
  }

  private async pruneCheckpoints(dir: string, keep: string): Promise<void> {
    const root = join(dir, 'checkpoints');
    const names = await readdir(root).catch(() => [] as string[]);
    await Promise.all(names.map((name) => join(root, name)).filter((path) => path !== keep).map((path) => rm(path, { recursive: true, force: true })));
  }

  /** The soak's end: lanes removed, the live floor cleared, forks deleted; the record (and its diffs) kept. */
  async end(journal: JournalClient, record: SoakRecord, state: Exclude<SoakState, 'running'>, error?: SoakRecord['error']): Promise<SoakRecord> {
    await Promise.all([...this.lanes.values()].map((lane) => lane.close()));
    this.lanes.clear();
    await Promise.all(SOAK_LANE_KEYS.map((key) => this.deps.runtime.removeLane(record.lanes[key], { timeoutMs: 5_000 }).catch(() => undefined)));
    await this.setFloor(journal.url, null);
    await rm(record.dir, { recursive: true, force: true });
    const ended = this.save({ ...record, state, error: error ?? null, finished_at: this.deps.clock.now() });
    this.deps.onProgress?.(ended, 'end');
    return ended;
  }
}

/**
 * Replication lag: from the entry's last clock reading on live (when its answer was built, just
 * before it committed) to now. Not from the call's start: a dispatch runs its command between its
 * transactions, and no replay can start before the live call has finished.
 */
function lagMs(entry: LiveEntry | undefined, now: number): number {
  if (!entry) return 0;
  const at = Date.parse(entry.times.at(-1) ?? entry.at);
  return Number.isFinite(at) ? Math.max(0, Math.round(now - at)) : 0;
}

function answerDiff(soakId: string, entry: LiveEntry, diffs: GroupableDiff[], reported: number, at: number): SoakAnswerDiff {
  return { soak_id: soakId, seq: entry.seq, tool: entry.tool, args: entry.args, reported, diffs, at };
}
