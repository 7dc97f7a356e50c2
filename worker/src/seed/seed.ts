import { existsSync, rmSync } from 'node:fs';
import { WorkerError } from '../errors.js';
import type { TaskSpec } from '../executor/command-dsl.js';
import { reviewByPanel, type CriticState } from '../operations/critics.js';
import { dbPathFor } from '../store/database.js';
import { appendEvent } from '../store/events.js';
import { DEFAULT_FLAGS, DEFAULT_TOKEN_BUDGET, FLAG_NAMES, writeSetting } from '../store/settings.js';
import { Store } from '../store/store.js';
import type { TaskStatus } from '../store/tasks.js';
import { Prng } from './prng.js';
import { seedExecutorRuns } from './seed-runs.js';

export interface SeedOptions {
  readonly stateRoot: string;
  readonly tasks?: number;
  readonly seed?: number;
  /** Replace an existing database instead of refusing. */
  readonly force?: boolean;
  /** Leave this many distinct commands without an executor record (default 0: all recorded). */
  readonly unrecordedRuns?: number;
}

export interface SeedSummary {
  readonly db: string;
  readonly seed: number;
  readonly tasks: number;
  readonly by_status: Record<TaskStatus, number>;
  readonly critics: number;
  readonly dispatches: number;
  readonly verifications: number;
  readonly reports: number;
  /** executor_runs records (one per distinct command the tasks run). */
  readonly executor_runs: number;
}

const AREAS = ['core', 'api', 'ui', 'data', 'infra'] as const;
const VERBS = ['Refactor', 'Add', 'Fix', 'Harden', 'Document', 'Benchmark', 'Migrate', 'Split', 'Cache', 'Validate'];
const NOUNS = ['scheduler', 'queue', 'planner', 'critic panel', 'executor', 'telemetry', 'session store', 'allow-list', 'report view', 'token meter'];
const AGENTS = ['codex-1', 'codex-2', 'claude-1', 'claude-2', 'atlas'];
const CRITICS = [
  { id: 'critic-tests', name: 'Tests' },
  { id: 'critic-security', name: 'Security' },
  { id: 'critic-design', name: 'Design' },
  { id: 'critic-perf', name: 'Performance' },
  { id: 'critic-docs', name: 'Docs' },
];
/** Seeded history starts here, one minute per task, so the data never depends on the wall clock. */
const EPOCH = Date.UTC(2025, 0, 1);

function taskSpec(rng: Prng, id: string, area: string): { spec: TaskSpec; failingCheck: boolean } {
  const roll = rng.next();
  const command: TaskSpec['command'] =
    roll < 0.1
      ? { kind: 'noop', note: 'manual review' }
      : roll < 0.25
        ? { kind: 'exec', program: 'true', args: [] }
        : { kind: 'exec', program: 'echo', args: ['running', id] };
  const checks: TaskSpec['checks'] = [{ name: 'smoke', command: { kind: 'exec', program: 'true', args: [] } }];
  if (rng.chance(0.6)) checks.push({ name: `${area}-unit`, command: { kind: 'exec', program: 'echo', args: ['check', id] }, tags: [area] });
  const failingCheck = rng.chance(0.12);
  if (failingCheck) checks.push({ name: 'flaky-lint', command: { kind: 'exec', program: 'false', args: [] }, tags: [rng.pick(AREAS)] });
  return { spec: { command, checks }, failingCheck };
}

/**
 * Builds a realistic state database: tasks with priorities and dependency chains, critics, and a
 * history of dispatches, verifications (with critic reviews) and reports. Deterministic from `seed`.
 */
export function seedState(options: SeedOptions): SeedSummary {
  const count = options.tasks ?? 500;
  const seed = options.seed ?? 42;
  if (!Number.isInteger(count) || count < 1 || count > 100_000) {
    throw new WorkerError('WVO_WORKER_OPTIONS_INVALID', `--tasks must be an integer 1..100000, got ${count}`, { subject: '--tasks', exitCode: 2 });
  }
  const unrecorded = options.unrecordedRuns ?? 0;
  if (!Number.isInteger(unrecorded) || unrecorded < 0) {
    throw new WorkerError('WVO_WORKER_OPTIONS_INVALID', `--unrecorded must be an integer >= 0, got ${unrecorded}`, { subject: '--unrecorded', exitCode: 2 });
  }
  if (!Number.isInteger(seed)) {
    throw new WorkerError('WVO_WORKER_OPTIONS_INVALID', `--seed must be an integer, got ${seed}`, { subject: '--seed', exitCode: 2 });
  }
  const path = dbPathFor(options.stateRoot);
  if (existsSync(path)) {
    if (!options.force) {
      throw new WorkerError('WVO_WORKER_OPTIONS_INVALID', `${path} already exists`, {
        subject: '--state',
        hint: 'Pass --force to replace it, or seed into an empty directory.',
        exitCode: 2,
      });
    }
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  }

  const rng = new Prng(seed);
  const store = Store.open({ stateRoot: options.stateRoot, dryRun: false });
  try {
    const db = store.db;
    const at = (minute: number) => new Date(EPOCH + minute * 60_000).toISOString();
    const byStatus: Record<TaskStatus, number> = { open: 0, in_progress: 0, done: 0, failed: 0 };
    let dispatches = 0;
    let verifications = 0;
    let reports = 0;
    let executorRuns = 0;
    const specs: string[] = [];
    store.tx(() => {
      for (const name of FLAG_NAMES) writeSetting(db, name, DEFAULT_FLAGS[name], at(0));
      writeSetting(db, 'AUTOPILOT_MODE', 'assist', at(0));
      writeSetting(db, 'TOKEN_BUDGET', String(DEFAULT_TOKEN_BUDGET), at(0));
      const critics: CriticState[] = CRITICS.map((critic) => ({
        ...critic,
        strictness: Math.round(rng.next() * 80 + 10) / 100,
        reputation: 0.5,
      }));
      const insertCritic = db.prepare('INSERT INTO critics (id, name, strictness, reputation) VALUES (?, ?, ?, ?)');
      for (const critic of critics) insertCritic.run(critic.id, critic.name, critic.strictness, critic.reputation);

      const insertTask = db.prepare(
        `INSERT INTO tasks (id, title, status, priority, dependencies, command_spec, estimated_tokens, attempts, claimed_by, area, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const insertDispatch = db.prepare(
        `INSERT INTO dispatches (task_id, agent, status, argv, exit_code, output, prompt_mode, prompt_tokens, duration_ms, started_at, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, 'standard', ?, ?, ?, ?)`,
      );
      const insertVerification = db.prepare(
        'INSERT INTO verifications (task_id, passed, checks, critic_score, created_at) VALUES (?, ?, ?, ?, ?)',
      );
      const insertHistory = db.prepare(
        `INSERT INTO critic_history (critic_id, verification_id, verdict, score, agreed, reputation_after, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      const insertReport = db.prepare('INSERT INTO reports (task_id, agent, outcome, notes, created_at) VALUES (?, ?, ?, ?, ?)');
      const statusOf = new Map<string, TaskStatus>();

      for (let index = 1; index <= count; index += 1) {
        const id = `T-${String(index).padStart(4, '0')}`;
        const area = rng.pick(AREAS);
        const title = `${rng.pick(VERBS)} ${rng.pick(NOUNS)} (${area})`;
        const priority = rng.int(1, 5);
        const deps = new Set<string>();
        if (index > 1 && rng.chance(0.55)) {
          const n = rng.int(1, 3);
          for (let k = 0; k < n; k += 1) deps.add(`T-${String(rng.int(Math.max(1, index - 25), index - 1)).padStart(4, '0')}`);
        }
        const { spec, failingCheck } = taskSpec(rng, id, area);
        specs.push(JSON.stringify(spec));
        const tokens = rng.int(5, 50) * 100;
        const depsDone = [...deps].every((dep) => statusOf.get(dep) === 'done');
        const roll = rng.next();
        const status: TaskStatus = !depsDone
          ? 'open'
          : roll < 0.45
            ? failingCheck ? 'failed' : 'done'
            : roll < 0.5
              ? 'failed'
              : roll < 0.58
                ? 'in_progress'
                : 'open';
        const agent = rng.pick(AGENTS);
        const created = at(index);
        insertTask.run(
          id, title, status, priority, JSON.stringify([...deps]), JSON.stringify(spec), tokens,
          status === 'open' ? 0 : 1, status === 'in_progress' ? agent : null, area, created, at(index + 1),
        );
        statusOf.set(id, status);
        byStatus[status] += 1;
        appendEvent(db, { at: created, kind: 'seeded', taskId: id, payload: { status } });
        if (status === 'open') continue;

        const argv = spec.command.kind === 'exec' ? [spec.command.program, ...spec.command.args] : [];
        insertDispatch.run(
          id, agent, status === 'failed' && !failingCheck ? 'failed' : 'succeeded', JSON.stringify(argv),
          status === 'failed' && !failingCheck ? 1 : 0, '', tokens + 60, rng.int(5, 900), created, at(index + 1),
        );
        dispatches += 1;
        appendEvent(db, { at: created, kind: 'dispatched', taskId: id, payload: { agent } });
        if (status === 'in_progress') continue;

        const passRatio = status === 'done' ? 1 : Math.round(((spec.checks.length - 1) / spec.checks.length) * 100) / 100;
        const panel = reviewByPanel(critics, passRatio);
        const passed = status === 'done';
        const checks = spec.checks.map((check) => ({ name: check.name, selected: true, status: 'succeeded' }));
        const verificationId = Number(insertVerification.run(id, passed ? 1 : 0, JSON.stringify(checks), panel.consensus, at(index + 1)).lastInsertRowid);
        verifications += 1;
        for (const review of panel.reviews) {
          insertHistory.run(review.critic_id, verificationId, review.verdict, review.score, review.agreed ? 1 : 0, review.reputation_after, at(index + 1));
          const critic = critics.find((candidate) => candidate.id === review.critic_id);
          if (critic) Object.assign(critic, { reputation: review.reputation_after });
          db.prepare('UPDATE critics SET reputation = ?, reviews = reviews + 1, agreements = agreements + ? WHERE id = ?').run(
            review.reputation_after, review.agreed ? 1 : 0, review.critic_id,
          );
        }
        appendEvent(db, { at: at(index + 1), kind: 'verified', taskId: id, payload: { passed } });
        insertReport.run(id, agent, status === 'done' ? 'done' : 'failed', status === 'done' ? 'merged' : 'checks failed', at(index + 2));
        reports += 1;
        appendEvent(db, { at: at(index + 2), kind: 'reported', taskId: id, payload: { outcome: status } });
      }
      // Its own PRNG: the tasks above stay exactly what they were before runs were seeded.
      executorRuns = seedExecutorRuns(db, specs, { rng: new Prng(seed ^ 0x5eed), at: at(count + 3), unrecorded });
    });
    return { db: path, seed, tasks: count, by_status: byStatus, critics: CRITICS.length, dispatches, verifications, reports, executor_runs: executorRuns };
  } finally {
    store.close();
  }
}
