import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../../common/src/clock.js';
import { newRunId } from '../../../common/src/ids.js';
import type { Logger } from '../../../common/src/logger.js';
import { isPidAlive } from '../../../common/src/process-alive.js';
import type { UpgradeSummary } from '../promotion/index.js';
import type { LaneRuntime } from '../runtime/index.js';
import { groupDiffs, type GroupableDiff, type ShadowGroup } from '../shadow/index.js';
import { soakErrors } from './errors.js';
import { writeSoakArtifacts } from './soak-artifacts.js';
import { forkLive } from './fork.js';
import { JournalClient } from './journal-client.js';
import { soakLaneNames } from './soak-lanes.js';
import { parseSoakStart } from './soak-options.js';
import { cleanSoakMs, type SoakCheckpoint, type SoakRecord } from './soak-record.js';
import { SoakRunner, type SoakRunnerDeps } from './soak-runner.js';
import type { SoakStore } from './soak-store.js';

export interface SoakOperationsDeps extends Omit<SoakRunnerDeps, 'store' | 'runtime'> {
  readonly store: SoakStore;
  readonly runtime: LaneRuntime;
  readonly projectRoot: string;
  /** Where `analytics/upgrade_shadow.json` lives. */
  readonly stateRoot: string;
  /** The staged upgrade to soak (the newest when no id): its candidate image, and the lane that serves. */
  readonly resolveUpgrade: (id?: string) => UpgradeSummary;
}

/** A driver whose heartbeat is older than this is gone, whatever its pid says (pids are reused). */
export const OWNER_STALE_MS = 60_000;

/** Pure-ish: is the soak's driver alive (this host: its pid; elsewhere: a fresh heartbeat)? */
export function ownerAlive(record: SoakRecord, now: number): boolean {
  const owner = record.owner;
  if (!owner || now - owner.heartbeat_at > OWNER_STALE_MS) return false;
  return owner.host === hostname() ? isPidAlive(owner.pid) : true;
}

export interface SoakStatus {
  readonly soak: SoakRecord | null;
  readonly clean_ms: number;
  readonly driver_alive: boolean;
  readonly checkpoints: readonly Omit<SoakCheckpoint, 'dir'>[];
  /** Reported answer differences grouped as the shadow groups them (tool × path × kind). */
  readonly answer_groups: readonly ShadowGroup[];
}

/** `wvo soak start|status|stop` and the API's soak routes: one implementation. */
export class SoakOperations {
  /** Artifact writes in order (a checkpoint's never lands after the end's); `drive` waits for them. */
  private artifacts: Promise<void> = Promise.resolve();

  constructor(private readonly deps: SoakOperationsDeps) {}

  private runner(): SoakRunner {
    return new SoakRunner({
      ...this.deps,
      onProgress: (record, what) => {
        if (what === 'checkpoint' || what === 'end') {
          const status = this.status(record.id);
          this.artifacts = this.artifacts
            .then(() => writeSoakArtifacts(status, this.deps))
            .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'could not write the soak artifacts'));
        }
        this.deps.onProgress?.(record, what);
      },
    });
  }

  /**
   * Fork the live state and record a running soak (its lanes start when it is driven). A running
   * soak whose driver is gone is resumed instead; one whose driver lives is WVO_SOAK_RUNNING.
   */
  async begin(input: unknown): Promise<{ record: SoakRecord; resumed: boolean }> {
    const now = this.deps.clock.now();
    const running = this.deps.store.running();
    if (running) {
      if (ownerAlive(running, now)) {
        throw soakErrors.create('WVO_SOAK_RUNNING', `soak ${running.id} is running (driver pid ${running.owner?.pid} on ${running.owner?.host})`, {
          subject: running.id,
          hint: '`wvo soak status` shows it; `wvo soak stop` ends it.',
        });
      }
      return { record: this.deps.store.save({ ...running, owner: { pid: process.pid, host: hostname(), heartbeat_at: now } }), resumed: true };
    }
    const options = parseSoakStart(input);
    const upgrade = this.deps.resolveUpgrade(options.upgradeId);
    const live = await this.deps.runtime.getLane(upgrade.baseline.lane).catch(() => undefined);
    // A running lane whose health probe lags under load (`starting`, `unhealthy`) still serves its
    // journal; one that cannot is refused by the fork's first journal read, with its own code.
    if (!live || live.status === 'stopped' || live.status === 'exited' || !live.url) {
      throw soakErrors.create('WVO_SOAK_LIVE_LANE_MISSING', `lane ${upgrade.baseline.lane} (the live lane of upgrade ${upgrade.id}) is ${live?.status ?? 'not running'}`, {
        subject: upgrade.baseline.lane,
        hint: 'A soak replays the live lane\'s journal: start it (`wvo lanes` lists lanes).',
      });
    }
    const id = newRunId(new Date(now));
    const dir = join(this.deps.projectRoot, 'tmp', `wv-soak-${id}`);
    const ck0 = join(dir, 'checkpoints', '0');
    const journal = new JournalClient(live.url, this.deps.token);
    const fork = await forkLive({
      liveStateDir: live.stateDir,
      // A volume-mode live state is forked where it lives; its scratch copy sits beside checkpoint 0.
      live: { runtime: this.deps.runtime, liveDir: join(dir, 'live-snapshot') },
      journal,
      dests: [join(ck0, 'replica'), join(ck0, 'candidate')],
      logger: this.deps.logger,
      clock: this.deps.clock,
      ...(options.forkTimeoutMs !== undefined ? { timeoutMs: options.forkTimeoutMs } : {}),
    });
    const record: SoakRecord = {
      id,
      upgrade_id: upgrade.id,
      state: 'running',
      live_lane: live.name,
      live_url: live.url,
      baseline_image: live.image,
      candidate_image: upgrade.candidate.image,
      lanes: soakLaneNames(id),
      dir,
      settings: options.settings,
      database: fork.database,
      fork_seq: fork.seq,
      fork_source: fork.source,
      last_seq: fork.seq,
      last_entry: fork.entry,
      replayed: 0,
      answer_diffs: 0,
      state_diffs: 0,
      first_diff_at: null,
      lag_calls: 0,
      lag_ms: 0,
      checkpoints: 0,
      checkpoint_seq: fork.seq,
      checkpoint_at: now,
      lane_restarts: 0,
      stop_requested: false,
      owner: { pid: process.pid, host: hostname(), heartbeat_at: now },
      error: null,
      started_at: now,
      updated_at: now,
      ends_at: options.settings.forMs === null ? null : now + options.settings.forMs,
      finished_at: null,
    };
    const checkpoint: SoakCheckpoint = { soak_id: id, seq: fork.seq, entry: fork.entry, at: now, reported: 0, state: null, dir: ck0 };
    return { record: this.deps.store.saveWith(record, { checkpoint }), resumed: false };
  }

  /** Replays until the soak stops, finishes or fails (the CLI in the foreground, `wvo serve` in the background). */
  async drive(id: string, signal?: AbortSignal): Promise<SoakRecord> {
    const ended = await this.runner().drive(id, signal);
    await this.artifacts;
    return ended;
  }

  /** The soak by id, else the running one, else the newest. */
  find(id?: string): SoakRecord | undefined {
    if (id) {
      const found = this.deps.store.find(id);
      if (!found) throw soakErrors.create('WVO_SOAK_NOT_FOUND', `no soak ${id}`, { subject: id, hint: '`wvo soak status` shows the newest.' });
      return found;
    }
    return this.deps.store.running() ?? this.deps.store.list(1)[0];
  }

  status(id?: string): SoakStatus {
    const soak = this.find(id) ?? null;
    if (!soak) return { soak: null, clean_ms: 0, driver_alive: false, checkpoints: [], answer_groups: [] };
    const diffs = this.deps.store.answerDiffs(soak.id, 1_000).flatMap((row) => row.diffs as GroupableDiff[]);
    const errors = new Map(diffs.filter((diff) => diff.path === 'isError').map((diff) => [diff.call_index, true]));
    return {
      soak,
      clean_ms: cleanSoakMs(soak),
      driver_alive: soak.state === 'running' && ownerAlive(soak, this.deps.clock.now()),
      checkpoints: this.deps.store.checkpoints(soak.id).map(({ dir: _dir, ...rest }) => rest),
      answer_groups: groupDiffs(diffs, errors),
    };
  }

  /** Asks the driver to stop (it checkpoints once more and ends); a soak whose driver is gone is ended here. */
  async stop(id?: string, waitMs = 60_000): Promise<SoakRecord> {
    const soak = this.find(id);
    if (!soak) throw soakErrors.create('WVO_SOAK_NOT_FOUND', 'no soak to stop', { subject: id ?? '(running)' });
    if (soak.state !== 'running') return soak;
    this.deps.store.requestStop(soak.id);
    if (!ownerAlive(soak, this.deps.clock.now())) {
      const ended = await this.runner().end(new JournalClient(soak.live_url, this.deps.token), { ...soak, stop_requested: true }, 'stopped');
      await this.artifacts;
      return ended;
    }
    const deadline = this.deps.clock.now() + waitMs;
    for (;;) {
      const now = this.deps.store.find(soak.id)!;
      if (now.state !== 'running' || this.deps.clock.now() >= deadline) return now;
      await this.deps.clock.sleep(100);
    }
  }
}

/**
 * `wvo promote --require-soak D`: a soak of this upgrade that has been clean (no answer and no
 * state difference, no error) for at least `requiredMs`, from its start to its last checkpoint.
 */
export function requireCleanSoak(store: SoakStore, upgradeId: string, requiredMs: number): SoakRecord {
  const soaks = store.forUpgrade(upgradeId);
  const best = soaks.map((soak) => ({ soak, clean: cleanSoakMs(soak) })).sort((a, b) => b.clean - a.clean)[0];
  if (best && best.clean >= requiredMs) return best.soak;
  const seen = soaks.map((soak) => `${soak.id} ${soak.state}: clean ${Math.round(cleanSoakMs(soak) / 1000)} s, answer diffs ${soak.answer_diffs}, state diffs ${soak.state_diffs}${soak.error ? `, ${soak.error.code}` : ''}`);
  throw soakErrors.create('WVO_SOAK_REQUIRED', `upgrade ${upgradeId} has no clean soak of ${Math.round(requiredMs / 1000)} s${seen.length ? ` (${seen.join('; ')})` : ' (never soaked)'}`, {
    subject: '--require-soak',
    details: { required_ms: requiredMs, soaks: soaks.map((soak) => ({ id: soak.id, state: soak.state, clean_ms: cleanSoakMs(soak) })) },
    hint: `Run \`wvo soak start ${upgradeId} --for <duration>\` and promote once it is clean for long enough.`,
  });
}
