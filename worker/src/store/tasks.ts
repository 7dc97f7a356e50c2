import type { Db } from './database.js';

export const TASK_STATUSES = ['open', 'in_progress', 'done', 'failed'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export interface TaskRow {
  readonly id: string;
  readonly title: string;
  readonly status: TaskStatus;
  readonly priority: number;
  readonly dependencies: string;
  readonly command_spec: string;
  readonly estimated_tokens: number;
  readonly attempts: number;
  readonly claimed_by: string | null;
  readonly area: string;
  readonly created_at: string;
  readonly updated_at: string;
}

/** A dependency that is not done (or does not exist) blocks its task. */
const UNMET_DEPENDENCY = `
  SELECT 1 FROM json_each(t.dependencies) d LEFT JOIN tasks dt ON dt.id = d.value
  WHERE dt.id IS NULL OR dt.status != 'done'`;

export function getTask(db: Db, id: string): TaskRow | undefined {
  return db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
}

export function dependencyIds(task: Pick<TaskRow, 'dependencies'>): string[] {
  const parsed: unknown = JSON.parse(task.dependencies);
  return Array.isArray(parsed) ? parsed.filter((value): value is string => typeof value === 'string') : [];
}

/** Open tasks whose dependencies are all done, highest priority first, then by id. */
export function readyTasks(db: Db, limit: number): TaskRow[] {
  return db
    .prepare(
      `SELECT t.* FROM tasks t WHERE t.status = 'open' AND NOT EXISTS (${UNMET_DEPENDENCY})
       ORDER BY t.priority DESC, t.id LIMIT ?`,
    )
    .all(limit) as TaskRow[];
}

export function readyCount(db: Db): number {
  const row = db
    .prepare(`SELECT COUNT(*) AS n FROM tasks t WHERE t.status = 'open' AND NOT EXISTS (${UNMET_DEPENDENCY})`)
    .get() as { n: number };
  return row.n;
}

export function isReady(db: Db, id: string): boolean {
  return (
    db.prepare(`SELECT 1 FROM tasks t WHERE t.id = ? AND t.status = 'open' AND NOT EXISTS (${UNMET_DEPENDENCY})`).get(id) !==
    undefined
  );
}

/** The dependencies of a task that are not done yet, with their status (`missing` if absent). */
export function unmetDependencies(db: Db, task: TaskRow): Array<{ id: string; status: string }> {
  return dependencyIds(task)
    .map((id) => ({ id, status: getTask(db, id)?.status ?? 'missing' }))
    .filter((dep) => dep.status !== 'done');
}

export function countByStatus(db: Db): Record<TaskStatus, number> {
  const counts: Record<TaskStatus, number> = { open: 0, in_progress: 0, done: 0, failed: 0 };
  for (const row of db.prepare('SELECT status, COUNT(*) AS n FROM tasks GROUP BY status').all() as Array<{
    status: TaskStatus;
    n: number;
  }>) {
    counts[row.status] = row.n;
  }
  return counts;
}

/** Claims an open task for an agent: returns false if someone else got it first (or it is not open). */
export function claimTask(db: Db, id: string, agent: string, at: string): boolean {
  return (
    db
      .prepare("UPDATE tasks SET status = 'in_progress', claimed_by = ?, attempts = attempts + 1, updated_at = ? WHERE id = ? AND status = 'open'")
      .run(agent, at, id).changes === 1
  );
}

export function setTaskStatus(db: Db, id: string, status: TaskStatus, at: string): void {
  db.prepare(
    "UPDATE tasks SET status = ?, claimed_by = CASE WHEN ? = 'in_progress' THEN claimed_by ELSE NULL END, updated_at = ? WHERE id = ?",
  ).run(status, status, at, id);
}

/** Tasks that list `id` as a dependency and are ready now. */
export function newlyReadyDependents(db: Db, id: string): string[] {
  return (
    db
      .prepare(
        `SELECT t.id FROM tasks t WHERE t.status = 'open'
           AND EXISTS (SELECT 1 FROM json_each(t.dependencies) d WHERE d.value = ?)
           AND NOT EXISTS (${UNMET_DEPENDENCY}) ORDER BY t.priority DESC, t.id`,
      )
      .all(id) as Array<{ id: string }>
  ).map((row) => row.id);
}

/** Prompt tokens of dispatches whose task is still in progress (the latest dispatch per task). */
export function tokensInFlight(db: Db): number {
  const row = db
    .prepare(
      `SELECT COALESCE(SUM(d.prompt_tokens), 0) AS n FROM dispatches d JOIN tasks t ON t.id = d.task_id
       WHERE t.status = 'in_progress' AND d.id = (SELECT MAX(id) FROM dispatches WHERE task_id = t.id)`,
    )
    .get() as { n: number };
  return row.n;
}
