import type { Db } from './database.js';

export const EVENT_KINDS = ['seeded', 'dispatched', 'executed', 'verified', 'reported', 'flag_changed'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Appends to the audit log (the table refuses UPDATE and DELETE); `id` null = the next. Returns the id. */
export function appendEvent(db: Db, event: { at: string; kind: EventKind; taskId?: string; payload?: unknown; id?: number | null }): number {
  return Number(
    db
      .prepare('INSERT INTO events (id, at, kind, task_id, payload) VALUES (?, ?, ?, ?, ?)')
      .run(event.id ?? null, event.at, event.kind, event.taskId ?? null, JSON.stringify(event.payload ?? {})).lastInsertRowid,
  );
}
