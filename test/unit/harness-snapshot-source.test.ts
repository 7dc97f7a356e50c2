import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../common/src/clock.js';
import { silentLogger } from '../../common/src/logger.js';
import { runLayout } from '../../controller/src/harness/steps/layout.js';
import { snapshotStep } from '../../controller/src/harness/steps/snapshot.js';
import type { LaneRuntime, LiveStateSnapshot } from '../../controller/src/runtime/index.js';

/** A state dir holding one database whose only row says where it came from. */
function stateDir(dir: string, origin: string): string {
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, 'orchestrator.db'));
  db.exec('CREATE TABLE origin (name TEXT)');
  db.prepare('INSERT INTO origin VALUES (?)').run(origin);
  db.close();
  return dir;
}

function originOf(dir: string): string {
  const db = new Database(join(dir, 'orchestrator.db'), { readonly: true });
  try {
    return (db.prepare('SELECT name FROM origin').get() as { name: string }).name;
  } finally {
    db.close();
  }
}

describe('snapshot step: where the moment is taken', () => {
  let work: string | undefined;
  afterEach(() => work && rmSync(work, { recursive: true, force: true }));

  const run = (runtime: Pick<LaneRuntime, 'snapshotLiveState'>, stateRoot: string) => {
    const layout = runLayout(work!, 'r1');
    return { layout, done: snapshotStep.run({ stateRoot, copies: layout.snapshots, live: { runtime, liveDir: layout.liveSnapshot }, logger: silentLogger(), clock: systemClock }, () => undefined) };
  };

  it('the live state is a volume on a lane host: every copy comes from what the runtime fetched, and steps.json names host and volume', async () => {
    work = mkdtempSync(join(tmpdir(), 'wvo-snap-source-'));
    const stateRoot = stateDir(join(work, 'state'), 'seed');
    const asked: string[] = [];
    const runtime = {
      async snapshotLiveState({ destDir }: { destDir: string }): Promise<LiveStateSnapshot> {
        asked.push(destDir);
        stateDir(destDir, 'live-volume');
        return { host: 'hostb', volume: 'app-live-state', image: 'w:1', root: destDir, files: 1, bytes: 1, durationMs: 1 };
      },
    };
    const { layout, done } = run(runtime, stateRoot);
    const { detail, output } = await done;
    expect(asked).toEqual([layout.liveSnapshot]);
    expect(detail).toMatchObject({ source: { kind: 'live-volume', host: 'hostb', volume: 'app-live-state', image: 'w:1' }, copies: 7 });
    expect(Object.values(output.copies).map(originOf)).toEqual(Array(7).fill('live-volume'));
  });

  it('no live volume (or a runtime without the method): the local state root, as before', async () => {
    work = mkdtempSync(join(tmpdir(), 'wvo-snap-source-'));
    const stateRoot = stateDir(join(work, 'state'), 'seed');
    for (const runtime of [{ snapshotLiveState: async () => undefined }, {}]) {
      const { layout, done } = run(runtime, stateRoot);
      const { detail, output } = await done;
      expect(detail).toMatchObject({ source: { kind: 'state-root', root: stateRoot } });
      expect(originOf(output.copies.baseline)).toBe('seed');
      rmSync(layout.stageRoot, { recursive: true, force: true });
    }
  });
});
