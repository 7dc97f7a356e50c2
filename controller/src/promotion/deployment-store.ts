import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { deploymentRecordSchema, type DeploymentRecord } from './deployment.js';
import type { Effect } from './effects.js';
import { judgeLease, leaseOwnedError, type Lease, type LeaseHolder } from './lease.js';
import { upgradeSummarySchema, type UpgradeSummary } from './plan.js';
import type { TransitionEntry, TransitionResult } from './state-machine.js';
import { DEPLOYMENT_STATES, RUNNING_STATES, type DeploymentState } from './states.js';
import { promotionErrors } from './errors.js';

/** One persisted row of a deployment's history, with the effects it asked for. */
export interface TransitionRow extends TransitionEntry {
  readonly seq: number;
  readonly deploymentId: string;
  readonly effects: readonly Effect[];
}

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

/** The deployments columns as of migration 3 (copied by the rebuild of migration 4). */
const V3_COLUMNS = [
  'seq', 'id', 'upgrade_id', 'state', 'plan', 'baseline_lane', 'baseline_image', 'candidate_lane', 'candidate_image',
  'active_flags', 'observation', 'rollback', 'created_at', 'updated_at', 'switched_at', 'promoted_at',
  'retention_ends_at', 'finished_at', 'baseline_removed', 'version', 'warm_until',
].join(', ');

/**
 * Numbered migrations, applied in order inside a transaction. Versions are tracked in this
 * room's own table so other rooms can keep tables in controller.db without clashing.
 */
const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string; rebuild?: boolean }> = [
  {
    version: 1,
    name: 'upgrades, deployments, transitions',
    sql: `
      CREATE TABLE upgrades (
        id TEXT PRIMARY KEY,
        summary TEXT NOT NULL,
        recorded_at INTEGER NOT NULL
      );
      CREATE TABLE deployments (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        upgrade_id TEXT NOT NULL REFERENCES upgrades(id),
        state TEXT NOT NULL CHECK (state IN (${list(DEPLOYMENT_STATES)})),
        plan TEXT NOT NULL,
        baseline_lane TEXT NOT NULL,
        baseline_image TEXT NOT NULL,
        candidate_lane TEXT NOT NULL,
        candidate_image TEXT NOT NULL,
        active_flags TEXT NOT NULL,
        observation TEXT,
        rollback TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        switched_at INTEGER,
        promoted_at INTEGER,
        retention_ends_at INTEGER,
        finished_at INTEGER,
        baseline_removed INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL
      );
      -- At most one running deployment: every running row has the same index key (1).
      CREATE UNIQUE INDEX deployments_one_running ON deployments((1))
        WHERE state IN (${list(RUNNING_STATES)});
      CREATE TABLE transitions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        deployment_id TEXT NOT NULL REFERENCES deployments(id),
        from_state TEXT NOT NULL,
        to_state TEXT NOT NULL,
        event TEXT NOT NULL,
        reason TEXT NOT NULL,
        at INTEGER NOT NULL,
        effects TEXT NOT NULL
      );
      CREATE INDEX transitions_by_deployment ON transitions(deployment_id, seq);
    `,
  },
  {
    version: 2,
    name: 'deployments.warm_until (keep the old lane running after promotion)',
    sql: `ALTER TABLE deployments ADD COLUMN warm_until INTEGER;`,
  },
  {
    version: 3,
    name: 'deployment_leases (which controller drives a deployment)',
    sql: `
      CREATE TABLE deployment_leases (
        deployment_id TEXT PRIMARY KEY REFERENCES deployments(id),
        owner TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        acquired_at INTEGER NOT NULL,
        renewed_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'deployments: state weighted (canary steps), analyses (interval verdicts)',
    // SQLite cannot change a CHECK: rebuild the table (its 12-step recipe, foreign keys off meanwhile).
    rebuild: true,
    sql: `
      CREATE TABLE deployments_v4 (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        upgrade_id TEXT NOT NULL REFERENCES upgrades(id),
        state TEXT NOT NULL CHECK (state IN (${list(DEPLOYMENT_STATES)})),
        plan TEXT NOT NULL,
        baseline_lane TEXT NOT NULL,
        baseline_image TEXT NOT NULL,
        candidate_lane TEXT NOT NULL,
        candidate_image TEXT NOT NULL,
        active_flags TEXT NOT NULL,
        observation TEXT,
        rollback TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        switched_at INTEGER,
        promoted_at INTEGER,
        retention_ends_at INTEGER,
        finished_at INTEGER,
        baseline_removed INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL,
        warm_until INTEGER,
        analyses TEXT NOT NULL DEFAULT '[]'
      );
      INSERT INTO deployments_v4 (${V3_COLUMNS})
        SELECT ${V3_COLUMNS} FROM deployments;
      DROP TABLE deployments;
      ALTER TABLE deployments_v4 RENAME TO deployments;
      CREATE UNIQUE INDEX deployments_one_running ON deployments((1))
        WHERE state IN (${list(RUNNING_STATES)});
    `,
  },
];

interface DeploymentRow {
  id: string;
  upgrade_id: string;
  state: string;
  plan: string;
  active_flags: string;
  observation: string | null;
  rollback: string | null;
  created_at: number;
  updated_at: number;
  switched_at: number | null;
  promoted_at: number | null;
  retention_ends_at: number | null;
  warm_until: number | null;
  analyses: string | null;
  finished_at: number | null;
  baseline_removed: number;
  version: number;
}

function toRecord(row: DeploymentRow): DeploymentRecord {
  return deploymentRecordSchema.parse({
    id: row.id,
    upgradeId: row.upgrade_id,
    state: row.state,
    plan: JSON.parse(row.plan),
    activeFlags: JSON.parse(row.active_flags),
    observation: row.observation === null ? null : JSON.parse(row.observation),
    rollback: row.rollback === null ? null : JSON.parse(row.rollback),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    switchedAt: row.switched_at,
    promotedAt: row.promoted_at,
    retentionEndsAt: row.retention_ends_at,
    warmUntil: row.warm_until,
    finishedAt: row.finished_at,
    baselineRemoved: row.baseline_removed === 1,
    analyses: row.analyses === null ? [] : JSON.parse(row.analyses),
    version: row.version,
  });
}

function toParams(r: DeploymentRecord): Record<string, unknown> {
  return {
    id: r.id,
    upgrade_id: r.upgradeId,
    state: r.state,
    plan: JSON.stringify(r.plan),
    baseline_lane: r.plan.baseline.lane,
    baseline_image: r.plan.baseline.image,
    candidate_lane: r.plan.candidate.lane,
    candidate_image: r.plan.candidate.image,
    active_flags: JSON.stringify(r.activeFlags),
    observation: r.observation === null ? null : JSON.stringify(r.observation),
    rollback: r.rollback === null ? null : JSON.stringify(r.rollback),
    created_at: r.createdAt,
    updated_at: r.updatedAt,
    switched_at: r.switchedAt,
    promoted_at: r.promotedAt,
    retention_ends_at: r.retentionEndsAt,
    warm_until: r.warmUntil,
    finished_at: r.finishedAt,
    baseline_removed: r.baselineRemoved ? 1 : 0,
    analyses: JSON.stringify(r.analyses),
    version: r.version,
  };
}

const COLUMNS = [
  'id', 'upgrade_id', 'state', 'plan', 'baseline_lane', 'baseline_image', 'candidate_lane', 'candidate_image',
  'active_flags', 'observation', 'rollback', 'created_at', 'updated_at', 'switched_at', 'promoted_at',
  'retention_ends_at', 'warm_until', 'finished_at', 'baseline_removed', 'analyses', 'version',
] as const;

export const CONTROLLER_DB_FILE = 'controller.db';

/**
 * The controller's deployment record (better-sqlite3, WAL). Every transition is written, with the
 * effects it asks for, in one transaction before any of those effects run (write-ahead), so a
 * controller killed at any point finds the last decision it made.
 */
export class DeploymentStore {
  private readonly db: Database.Database;

  /** Open (creating and migrating) `<stateRoot>/controller.db`. */
  static open(stateRoot: string): DeploymentStore {
    mkdirSync(stateRoot, { recursive: true });
    return new DeploymentStore(join(stateRoot, CONTROLLER_DB_FILE));
  }

  constructor(readonly path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: a transition must survive kill -9 and power loss before its effects run.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Schema version of this room's tables. */
  schemaVersion(): number {
    const row = this.db.prepare('SELECT MAX(version) AS v FROM promotion_migrations').get() as { v: number | null };
    return row.v ?? 0;
  }

  private migrate(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS promotion_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    const current = this.schemaVersion();
    const latest = MIGRATIONS.at(-1)!.version;
    if (current > latest) {
      throw promotionErrors.create('WVO_CONTROLLER_DB_NEWER', `${this.path} has promotion schema ${current}; this wvo knows ${latest}`, {
        subject: this.path,
        hint: 'run the newer wvo that wrote this database',
      });
    }
    for (const m of MIGRATIONS.filter((m) => m.version > current)) {
      // A table rebuild drops a table others reference: foreign keys off (not changeable inside a transaction), checked before commit.
      if (m.rebuild) this.db.pragma('foreign_keys = OFF');
      try {
        this.db.transaction(() => {
          this.db.exec(m.sql);
          if (m.rebuild) {
            const broken = this.db.pragma('foreign_key_check') as unknown[];
            if (broken.length > 0) throw new Error(`migration ${m.version} broke ${broken.length} foreign key(s)`);
          }
          this.db.prepare('INSERT INTO promotion_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
        }).immediate();
      } finally {
        if (m.rebuild) this.db.pragma('foreign_keys = ON');
      }
    }
  }

  /** Register a staged upgrade (the harness's summary) so it can be promoted. Idempotent. */
  recordUpgrade(summary: UpgradeSummary, at: number): void {
    const parsed = upgradeSummarySchema.parse(summary);
    this.db
      .prepare(
        `INSERT INTO upgrades (id, summary, recorded_at) VALUES (?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET summary = excluded.summary, recorded_at = excluded.recorded_at`,
      )
      .run(parsed.id, JSON.stringify(parsed), at);
  }

  findUpgrade(id: string): UpgradeSummary | undefined {
    const row = this.db.prepare('SELECT summary FROM upgrades WHERE id = ?').get(id) as { summary: string } | undefined;
    return row ? upgradeSummarySchema.parse(JSON.parse(row.summary)) : undefined;
  }

  /** Recorded harness runs (CLI and API alike), newest first. */
  recentUpgrades(limit = 100): UpgradeSummary[] {
    const rows = this.db.prepare('SELECT summary FROM upgrades ORDER BY recorded_at DESC, rowid DESC LIMIT ?').all(limit) as Array<{ summary: string }>;
    return rows.map((row) => upgradeSummarySchema.parse(JSON.parse(row.summary)));
  }

  /** The upgrade to promote: `id`, or the most recently recorded one. */
  getUpgrade(id?: string): UpgradeSummary {
    const row = (
      id === undefined
        ? this.db.prepare('SELECT summary FROM upgrades ORDER BY recorded_at DESC, rowid DESC LIMIT 1').get()
        : this.db.prepare('SELECT summary FROM upgrades WHERE id = ?').get(id)
    ) as { summary: string } | undefined;
    if (!row) {
      throw promotionErrors.create('WVO_NO_STAGED_UPGRADE', id === undefined ? 'no staged upgrade to promote' : `no staged upgrade ${id}`, {
        subject: id ?? '(latest)',
        hint: 'run `wvo upgrade` first; `wvo status` lists staged upgrades',
      });
    }
    return upgradeSummarySchema.parse(JSON.parse(row.summary));
  }

  /**
   * Insert a new deployment (state `shadowed`). Refused with WVO_PROMOTION_IN_PROGRESS when another
   * is running — by the unique index, so two controllers racing cannot both win.
   */
  createDeployment(record: DeploymentRecord, lease?: Omit<Lease, 'deploymentId'>): DeploymentRecord {
    const stored = { ...record, version: 1 };
    this.db.transaction(() => {
      this.getUpgrade(record.upgradeId);
      try {
        this.db
          .prepare(`INSERT INTO deployments (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')})`)
          .run(toParams(stored));
      } catch (error) {
        throw this.translateConstraint(error, record.id);
      }
      // Its driver's lease in the same transaction: no moment where it runs without a driver.
      if (lease) this.insertLease({ ...lease, deploymentId: record.id });
    }).immediate();
    return stored;
  }

  private insertLease(lease: Lease): void {
    this.db
      .prepare(
        `INSERT INTO deployment_leases (deployment_id, owner, pid, host, acquired_at, renewed_at, expires_at)
         VALUES (@deploymentId, @owner, @pid, @host, @acquiredAt, @renewedAt, @expiresAt)
         ON CONFLICT(deployment_id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, host = excluded.host,
           acquired_at = excluded.acquired_at, renewed_at = excluded.renewed_at, expires_at = excluded.expires_at`,
      )
      .run(lease);
  }

  private translateConstraint(error: unknown, id: string): unknown {
    const message = error instanceof Error ? error.message : '';
    if (message.includes('deployments_one_running')) {
      const running = this.running();
      return promotionErrors.create(
        'WVO_PROMOTION_IN_PROGRESS',
        `deployment ${running?.id ?? '(unknown)'} is ${running?.state ?? 'running'}; one promotion at a time`,
        {
          subject: id,
          hint: 'wait for it to finish, `wvo rollback` it, or `wvo resume` it if its controller died',
          details: running ? { running: running.id, state: running.state } : undefined,
          cause: error,
        },
      );
    }
    return error;
  }

  find(id: string): DeploymentRecord | undefined {
    const row = this.db.prepare('SELECT * FROM deployments WHERE id = ?').get(id) as DeploymentRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  get(id: string): DeploymentRecord {
    const record = this.find(id);
    if (!record) {
      throw promotionErrors.create('WVO_DEPLOYMENT_NOT_FOUND', `no deployment ${id}`, {
        subject: id,
        hint: '`wvo status` lists deployments',
      });
    }
    return record;
  }

  /** The deployment holding the running slot, if any. */
  running(): DeploymentRecord | undefined {
    const row = this.db
      .prepare(`SELECT * FROM deployments WHERE state IN (${list(RUNNING_STATES)})`)
      .get() as DeploymentRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Newest first. */
  list(limit = 50): DeploymentRecord[] {
    const rows = this.db.prepare('SELECT * FROM deployments ORDER BY seq DESC LIMIT ?').all(limit) as DeploymentRow[];
    return rows.map(toRecord);
  }

  transitions(deploymentId: string): TransitionRow[] {
    const rows = this.db
      .prepare('SELECT * FROM transitions WHERE deployment_id = ? ORDER BY seq')
      .all(deploymentId) as Array<{
      seq: number;
      deployment_id: string;
      from_state: DeploymentState;
      to_state: DeploymentState;
      event: TransitionEntry['event'];
      reason: string;
      at: number;
      effects: string;
    }>;
    return rows.map((r) => ({
      seq: r.seq,
      deploymentId: r.deployment_id,
      from: r.from_state,
      to: r.to_state,
      event: r.event,
      reason: r.reason,
      at: r.at,
      effects: JSON.parse(r.effects) as Effect[],
    }));
  }

  /**
   * Persist a transition's outcome (record + history row + the effects it asks for) in one
   * transaction, only if the stored record is still at `result`'s base version: a second
   * controller acting on the same deployment gets WVO_DEPLOYMENT_CONFLICT instead of a lost update.
   * Call before running `result.effects`.
   */
  commit(result: TransitionResult): DeploymentRecord {
    if (result.noop !== null) return result.record;
    const base = result.record.version;
    const next = { ...result.record, version: base + 1 };
    this.db.transaction(() => {
      if (result.transition?.from === 'promoted' && result.transition.to === 'rolling_back') this.assertLatest(next);
      const sets = COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = @${c}`).join(', ');
      let changes: number;
      try {
        changes = this.db
          .prepare(`UPDATE deployments SET ${sets} WHERE id = @id AND version = @base`)
          .run({ ...toParams(next), base }).changes;
      } catch (error) {
        throw this.translateConstraint(error, next.id);
      }
      if (changes !== 1) {
        const current = this.find(next.id);
        throw promotionErrors.create(
          'WVO_DEPLOYMENT_CONFLICT',
          `deployment ${next.id} changed underneath this controller (now ${current?.state ?? 'missing'} v${current?.version ?? '-'}, expected v${base})`,
          { subject: next.id, hint: 'another controller is driving it; reload with `wvo status`' },
        );
      }
      const t = result.transition;
      if (t) {
        this.db
          .prepare(
            'INSERT INTO transitions (deployment_id, from_state, to_state, event, reason, at, effects) VALUES (?, ?, ?, ?, ?, ?, ?)',
          )
          .run(next.id, t.from, t.to, t.event, t.reason, t.at, JSON.stringify(result.effects));
      }
    }).immediate();
    return next;
  }

  lease(deploymentId: string): Lease | undefined {
    const row = this.db.prepare('SELECT * FROM deployment_leases WHERE deployment_id = ?').get(deploymentId) as
      | { deployment_id: string; owner: string; pid: number; host: string; acquired_at: number; renewed_at: number; expires_at: number }
      | undefined;
    if (!row) return undefined;
    return {
      deploymentId: row.deployment_id,
      owner: row.owner,
      pid: row.pid,
      host: row.host,
      acquiredAt: row.acquired_at,
      renewedAt: row.renewed_at,
      expiresAt: row.expires_at,
    };
  }

  /**
   * Take the lease on a deployment for `me` (judged by `judgeLease` inside one immediate
   * transaction, so two drivers racing cannot both win), or with `force` whoever holds it (an
   * operator's rollback outranks a running promote). Refused: WVO_DEPLOYMENT_OWNED.
   */
  acquireLease(
    deploymentId: string,
    me: LeaseHolder,
    at: { now: number; ttlMs: number; isAlive: (pid: number) => boolean; force?: boolean },
  ): { lease: Lease; reason: string; previous?: Lease } {
    return this.db.transaction(() => {
      const previous = this.lease(deploymentId);
      const judgement = at.force ? { take: true as const, reason: 'taken over (rollback)' } : judgeLease(previous, me, at.now, at.isAlive);
      if (!judgement.take) throw leaseOwnedError(previous!, judgement, at.now);
      const lease: Lease = { ...me, deploymentId, acquiredAt: at.now, renewedAt: at.now, expiresAt: at.now + at.ttlMs };
      this.insertLease(lease);
      return { lease, reason: judgement.reason, ...(previous && previous.owner !== me.owner ? { previous } : {}) };
    }).immediate();
  }

  /** Extend my lease; false when it is no longer mine (another driver took it over). */
  renewLease(deploymentId: string, owner: string, at: { now: number; ttlMs: number }): boolean {
    return (
      this.db
        .prepare('UPDATE deployment_leases SET renewed_at = ?, expires_at = ? WHERE deployment_id = ? AND owner = ?')
        .run(at.now, at.now + at.ttlMs, deploymentId, owner).changes === 1
    );
  }

  /** Give the lease up (only if it is still mine). */
  releaseLease(deploymentId: string, owner: string): void {
    this.db.prepare('DELETE FROM deployment_leases WHERE deployment_id = ? AND owner = ?').run(deploymentId, owner);
  }

  /** Rollback after promotion undoes only the newest deployment; an older one was superseded. */
  private assertLatest(record: DeploymentRecord): void {
    const newer = this.db
      .prepare(`SELECT id, state FROM deployments WHERE seq > (SELECT seq FROM deployments WHERE id = ?) AND state != 'rolled_back' ORDER BY seq DESC LIMIT 1`)
      .get(record.id) as { id: string; state: string } | undefined;
    if (newer) {
      throw promotionErrors.create('WVO_ROLLBACK_SUPERSEDED', `deployment ${record.id} was superseded by ${newer.id} (${newer.state})`, {
        subject: record.id,
        hint: `roll back ${newer.id} first`,
        details: { newer: newer.id },
      });
    }
  }
}
