import { createHash } from 'node:crypto';
import { canonicalJson } from '../../../common/src/canonical-json.js';
import { soakErrors } from './errors.js';
import type { LiveEntry } from './journal-client.js';

/** What identifies an entry: the same seq with another identity later means the journal was rewritten. */
export function entryIdentity(entry: Pick<LiveEntry, 'seq' | 'tool' | 'args' | 'at' | 'answer_sha256' | 'status'>): { seq: number; sha256: string } {
  const { seq, tool, args, at, answer_sha256, status } = entry;
  return { seq, sha256: createHash('sha256').update(canonicalJson({ seq, tool, args, at, answer_sha256, status })).digest('hex') };
}

/** Pure: where to pull from: one entry before the cursor when its identity is known, to re-check it. */
export function pullAfter(cursor: { last_seq: number; last_entry: { seq: number } | null }): number {
  return cursor.last_entry && cursor.last_entry.seq === cursor.last_seq && cursor.last_seq > 0 ? cursor.last_seq - 1 : cursor.last_seq;
}

/**
 * Pure: the new entries of a page pulled from `pullAfter(cursor)`, after checking that the entry
 * at the cursor is still the one replayed (else WVO_SOAK_JOURNAL_REWRITTEN) and that the rest
 * follow it without a gap (else WVO_SOAK_JOURNAL_GAP).
 */
export function newEntries(cursor: { last_seq: number; last_entry: { seq: number; sha256: string } | null }, entries: readonly LiveEntry[]): LiveEntry[] {
  let rest = [...entries];
  if (pullAfter(cursor) < cursor.last_seq) {
    const first = rest[0];
    if (!first) {
      throw soakErrors.create('WVO_SOAK_JOURNAL_REWRITTEN', `the live journal no longer holds entry ${cursor.last_seq}, which the soak replayed last`, {
        subject: `journal[${cursor.last_seq}]`,
        hint: 'The live state was restored or replaced: the soak must fork again.',
      });
    }
    const identity = entryIdentity(first);
    if (first.seq !== cursor.last_seq || identity.sha256 !== cursor.last_entry!.sha256) {
      throw soakErrors.create('WVO_SOAK_JOURNAL_REWRITTEN', `journal entry ${cursor.last_seq} changed after the soak replayed it`, {
        subject: `journal[${cursor.last_seq}]`,
        details: { replayed: cursor.last_entry, now: identity },
        hint: 'The live state was restored or replaced: the soak must fork again.',
      });
    }
    rest = rest.slice(1);
  }
  let expected = cursor.last_seq + 1;
  for (const entry of rest) {
    if (entry.seq !== expected) {
      throw soakErrors.create('WVO_SOAK_JOURNAL_GAP', `journal entry ${expected} is missing (the next one is ${entry.seq})`, {
        subject: `journal[${expected}]`,
        details: { expected, got: entry.seq },
        hint: 'Entries were pruned or lost: the soak must fork again.',
      });
    }
    expected += 1;
  }
  return rest;
}
