import { describe, expect, it } from 'vitest';
import { CommitSignal } from '../../worker/src/store/commit-signal.js';
import { Store } from '../../worker/src/store/store.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('CommitSignal (the journal long-poll\'s wake-up)', () => {
  it('wakes every waiter at the next commit, times out empty, and ends all waits at close', async () => {
    const signal = new CommitSignal();
    const a = signal.next(10_000);
    const b = signal.next(10_000);
    expect(signal.waiting).toBe(2);
    signal.committed();
    expect(await Promise.all([a, b])).toEqual([true, true]);
    expect(signal.waiting).toBe(0);
    const started = Date.now();
    expect(await signal.next(50)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(signal.waiting).toBe(0);
    const held = signal.next(10_000);
    signal.close();
    expect(await held).toBe(false);
    expect(await signal.next(10_000)).toBe(false);
  });

  it('a store wakes it after its outermost write transaction commits, not at a nested savepoint', async () => {
    const root = mkdtempSync(join(tmpdir(), 'wvo-commit-signal-'));
    const store = Store.open({ stateRoot: root, dryRun: false });
    try {
      let wokenInside = false;
      const woken = store.commits.next(10_000).then((value) => value);
      store.tx(() => {
        store.tx(() => store.db.exec("INSERT INTO settings (key, value, updated_at) VALUES ('x', '1', 'now')"));
        // Still inside the outer transaction: nothing committed, nobody woken yet.
        wokenInside = store.commits.waiting === 0;
      });
      expect(wokenInside).toBe(false);
      expect(await woken).toBe(true);
    } finally {
      store.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
