import { afterEach, describe, expect, it } from 'vitest';
import { diffCheckpointOffThread, type CheckpointDiff } from '../../controller/src/soak/index.js';
import { faultyTree, liveHead, liveTraffic, replayedUpTo, REPORT_RETRY_FAILED, soakRig, type SoakRig } from '../helpers/soak-rig.js';

/**
 * A checkpoint never pauses replay (issue 11, lag goal): its copies are taken with both lanes idle,
 * its integrity check and diff run meanwhile, and it is recorded when the diff ends.
 */
describe('soak: a checkpoint\'s diff runs while replay goes on', () => {
  const rigs: SoakRig[] = [];
  const cleanups: Array<() => void> = [];
  afterEach(async () => {
    for (const rig of rigs.splice(0)) await rig.cleanup();
    cleanups.splice(0).forEach((cleanup) => cleanup());
  });

  it('a held diff does not hold back last_seq; released, its checkpoint and the write-only regression are recorded', async () => {
    const faulty = faultyTree(REPORT_RETRY_FAILED.file, REPORT_RETRY_FAILED.from, REPORT_RETRY_FAILED.to);
    cleanups.push(faulty.cleanup);
    const r = await soakRig({ candidateImage: faulty.tree });
    rigs.push(r);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    // The real diff (in its thread), the first one held until the test lets it go.
    const heldDiff: CheckpointDiff = async (copies, database) => {
      started += 1;
      if (started === 1) await gate;
      return diffCheckpointOffThread(copies, database);
    };
    const ops = r.operations({ diffCheckpoint: heldDiff });
    const { record } = await ops.begin({ checkpointCalls: 5, checkpointEvery: '1h' });
    const forkRows = r.store.checkpoints(record.id).length;
    const driving = ops.drive(record.id);
    try {
      await liveTraffic(r.liveUrl, 2, 4);
      const head = await liveHead(r.liveUrl);
      expect(head - record.fork_seq).toBeGreaterThanOrEqual(12);
      // The checkpoint at fork+5 is copied and its diff held: replay goes on to the next one (fork+10).
      await replayedUpTo(r.store, record.id, record.fork_seq + 10, 60_000);
      expect(started).toBe(1);
      expect(r.store.checkpoints(record.id)).toHaveLength(forkRows);
      expect(r.store.find(record.id)!.checkpoints).toBe(record.checkpoints);
      release();
      await replayedUpTo(r.store, record.id, head);
      await ops.stop(record.id);
    } finally {
      release();
    }
    const ended = await driving;
    expect(ended.error).toBeNull();
    expect(ended.state).toBe('stopped');
    const recorded = r.store.checkpoints(record.id).filter((checkpoint) => checkpoint.state !== null);
    // In order, the held one first; every one of them diffed (none skipped).
    expect(recorded[0]!.seq).toBe(record.fork_seq + 5);
    expect(recorded.map((checkpoint) => checkpoint.seq)).toEqual([...recorded.map((checkpoint) => checkpoint.seq)].sort((a, b) => a - b));
    expect(recorded.length).toBe(started);
    expect(ended.checkpoints).toBe(record.checkpoints + recorded.length);
    // The regression is still reported by the checkpoints' diffs.
    expect(ended.state_diffs).toBeGreaterThan(0);
    expect(recorded.some((checkpoint) => checkpoint.reported > 0)).toBe(true);
  });
});
