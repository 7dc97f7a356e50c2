import type { Db } from './database.js';

export const EVENT_KINDS = ['seeded', 'dispatched', 'executed', 'verified', 'reported'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Appends to the audit log (the table refuses UPDATE and DELETE). */
export function appendEvent(db: Db, event: { at: string; kind: EventKind; taskId?: string; payload?: unknown }): void {
  db.prepare('INSERT INTO events (at, kind, task_id, payload) VALUES (?, ?, ?, ?)').run(
    event.at,
    event.kind,
    event.taskId ?? null,
    JSON.stringify(event.payload ?? {}),
  );
}
