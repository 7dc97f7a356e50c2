import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { answerDigest, laneNeutral } from '../../worker/src/journal/answer-digest.js';
import { CallLedger } from '../../worker/src/journal/call-ledger.js';
import { LOGICAL_EPOCH_MS, LogicalClock, logicalStart } from '../../worker/src/journal/logical-clock.js';
import { parseReplayMeta } from '../../worker/src/journal/replay-meta.js';
import { appendEvent } from '../../worker/src/store/events.js';
import { journalHead, pruneCutoff, pruneJournal, writeFloor } from '../../worker/src/store/journal.js';
import { Store } from '../../worker/src/store/store.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function store(): Store {
  const stateRoot = mkdtempSync(join(tmpdir(), 'wvo-journal-unit-'));
  dirs.push(stateRoot);
  return Store.open({ stateRoot, dryRun: false });
}

describe('answer digest: lane markers out, everything else in', () => {
  const live = { dispatch_id: 3, execution: { argv: ['true'], timeout_ms: 5000, source: 'spawned', status: 'succeeded' }, dry_run: false };
  const sandbox = { dispatch_id: 3, execution: { argv: ['true'], timeout_ms: 5000, source: 'replayed', status: 'succeeded' }, dry_run: false, sandbox: true };

  it('ignores dry_run/sandbox and executor sources', () => {
    expect(answerDigest(sandbox)).toBe(answerDigest(live));
    expect(laneNeutral(live)).toEqual({ dispatch_id: 3, execution: { argv: ['true'], timeout_ms: 5000, status: 'succeeded' } });
  });

  it('sees ids, values, key order, and a `source` that is not an executor result', () => {
    expect(answerDigest({ ...live, dispatch_id: 4 })).not.toBe(answerDigest(live));
    const { dispatch_id, ...rest } = live;
    expect(answerDigest({ ...rest, dispatch_id })).not.toBe(answerDigest(live));
    expect(answerDigest({ flags: { PROMPT_MODE: { value: 'compact', source: 'db' } } })).not.toBe(
      answerDigest({ flags: { PROMPT_MODE: { value: 'compact', source: 'env' } } }),
    );
  });
});

describe('logical clock (sandbox)', () => {
  it('starts at the latest event (epoch when none) and steps per call, 1 ms per reading', () => {
    const s = store();
    try {
      expect(logicalStart(s.db)).toBe(LOGICAL_EPOCH_MS);
      s.tx(() => appendEvent(s.db, { at: '2026-03-01T10:00:00.000Z', kind: 'seeded' }));
      s.tx(() => appendEvent(s.db, { at: '2026-02-01T10:00:00.000Z', kind: 'seeded' }));
      const start = logicalStart(s.db);
      expect(new Date(start).toISOString()).toBe('2026-03-01T10:00:00.000Z');
      const clock = new LogicalClock(start);
      const first = clock.beginCall();
      expect([first(), first()]).toEqual([start + 1000, start + 1001]);
      expect(clock.beginCall()()).toBe(start + 2000);
    } finally {
      s.close();
    }
  });
});

describe('journal retention', () => {
  it('pruneCutoff keeps the newest `retain` and never reaches the floor; 0 = keep all', () => {
    expect(pruneCutoff(100, 10, null)).toBe(90);
    expect(pruneCutoff(100, 10, 50)).toBe(49);
    expect(pruneCutoff(100, 10, 95)).toBe(90);
    expect(pruneCutoff(100, 0, null)).toBe(0);
    expect(pruneCutoff(5, 10, null)).toBe(0);
  });

  it('pruning deletes the oldest only; the sequence continues without reuse', () => {
    const s = store();
    try {
      const append = () => {
        const ledger = new CallLedger({ mode: 'record', tool: 'report', args: {}, read: () => 0 });
        s.tx(() => ledger.close(s.db, { status: 'ok', body: { n: 1 } }));
        return ledger.seq;
      };
      for (let i = 0; i < 20; i += 1) append();
      s.tx(() => writeFloor(s.db, 8, 'now'));
      s.tx(() => pruneJournal(s.db, 20, 5));
      expect(journalHead(s.db)).toMatchObject({ head: 20, oldest: 8, floor: 8 });
      expect(append()).toBe(21);
    } finally {
      s.close();
    }
  });
});

describe('replay meta', () => {
  it('accepts an entry as GET /journal returns it and names a bad field', () => {
    const entry = { seq: 4, tool: 'report', args: {}, status: 'ok', at: '2026-01-01T00:00:00.000Z', times: [], ids: { events: [9] }, runs: [], answer_sha256: 'a'.repeat(64) };
    expect(parseReplayMeta(entry)).toMatchObject({ seq: 4, ids: { events: [9] } });
    expect(() => parseReplayMeta({ ...entry, ids: { events: ['x'] } })).toThrow(expect.objectContaining({ code: 'WVO_REPLAY_INVALID', subject: '_meta.wvo/replay.ids.events[0]' }));
    expect(() => parseReplayMeta({ ...entry, seq: 0 })).toThrow(expect.objectContaining({ subject: '_meta.wvo/replay.seq' }));
  });

  it('a replay forces the journal ids when free and reports the ones it could not', () => {
    const s = store();
    try {
      s.tx(() => appendEvent(s.db, { at: 'x', kind: 'seeded', id: 7 }));
      const ledger = new CallLedger({
        mode: 'replay',
        tool: 'report',
        args: {},
        read: () => 0,
        replay: parseReplayMeta({ seq: 1, at: '2026-01-01T00:00:00.000Z', ids: { events: [12, 7, 13] } }),
      });
      const ids = s.tx(() => {
        const take = () => {
          const id = appendEvent(s.db, { at: 'x', kind: 'seeded', id: ledger.forcedId('events', s.db) });
          ledger.tookId('events', id);
          return id;
        };
        return [take(), take()];
      });
      expect(ids).toEqual([12, 13]);
      s.tx(() => ledger.close(s.db, { status: 'ok', body: {} }));
      expect(ledger.mismatches).toEqual([
        { kind: 'id_taken', table: 'events', expected: 7 },
        { kind: 'id_missing', table: 'events', expected: [13] },
      ]);
    } finally {
      s.close();
    }
  });
});
