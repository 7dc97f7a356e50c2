import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../common/src/clock.js';
import { isWvoError } from '../../common/src/errors.js';
import { silentLogger } from '../../common/src/logger.js';
import type { LaneRuntime } from '../../controller/src/runtime/index.js';
import { snapshotCopies } from '../../controller/src/state/index.js';
import { seedState } from '../../worker/src/index.js';
import {
  cleanSoakMs,
  compareEntry,
  entryIdentity,
  forkLive,
  JournalClient,
  newEntries,
  nextIdleWait,
  PagePuller,
  parseSoakStart,
  pullAfter,
  withSoakSection,
  type LiveEntry,
  type SoakRecord,
} from '../../controller/src/soak/index.js';

const entry = (seq: number, extra: Partial<LiveEntry> = {}): LiveEntry => ({
  seq,
  tool: 'report',
  args: { task_id: `T-${seq}`, outcome: 'done' },
  status: 'ok',
  answer_sha256: 'a'.repeat(64),
  error_code: null,
  at: '2026-01-01T00:00:00.000Z',
  times: [],
  ids: {},
  runs: [],
  ...extra,
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isWvoError(error) ? error.code : `not coded: ${String(error)}`;
  }
  return undefined;
}

describe('journal order (pure)', () => {
  it('re-reads the entry at the cursor and returns what follows it', () => {
    const cursor = { last_seq: 5, last_entry: entryIdentity(entry(5)) };
    expect(pullAfter(cursor)).toBe(4);
    expect(newEntries(cursor, [entry(5), entry(6), entry(7)]).map((e) => e.seq)).toEqual([6, 7]);
    expect(newEntries(cursor, [entry(5)])).toEqual([]);
    // Without a known identity (a fresh fork of an empty journal) there is no overlap to check.
    expect(pullAfter({ last_seq: 0, last_entry: null })).toBe(0);
    expect(newEntries({ last_seq: 0, last_entry: null }, [entry(1)]).map((e) => e.seq)).toEqual([1]);
  });

  it('a different entry at the cursor is a rewrite; a skipped seq is a gap; a vanished cursor is a rewrite', () => {
    const cursor = { last_seq: 5, last_entry: entryIdentity(entry(5)) };
    expect(codeOf(() => newEntries(cursor, [entry(5, { args: { task_id: 'T-9', outcome: 'done' } }), entry(6)]))).toBe('WVO_SOAK_JOURNAL_REWRITTEN');
    expect(codeOf(() => newEntries(cursor, [entry(5), entry(7)]))).toBe('WVO_SOAK_JOURNAL_GAP');
    expect(codeOf(() => newEntries(cursor, []))).toBe('WVO_SOAK_JOURNAL_REWRITTEN');
    expect(codeOf(() => newEntries({ last_seq: 0, last_entry: null }, [entry(2)]))).toBe('WVO_SOAK_JOURNAL_GAP');
  });
});

describe('answer comparison (pure)', () => {
  const meta = { answer_sha256: 'a'.repeat(64), answer_matches: true, mismatches: [] };
  it('equal answers give nothing; a changed value is a reported regression; isError flips are reported', () => {
    const same = { result: { status: 'open', id: 3 }, isError: false, meta };
    expect(compareEntry(entry(1), same, same)).toMatchObject({ diffs: [], reported: 0 });
    const changed = compareEntry(entry(1), same, { ...same, result: { status: 'failed', id: 3 } });
    expect(changed.reported).toBe(1);
    expect(changed.diffs[0]).toMatchObject({ path: '$.status', baseline: 'open', candidate: 'failed', verdict: 'regression', call_index: 1 });
    const flipped = compareEntry(entry(1), same, { result: { code: 'WVO_X' }, isError: true, meta });
    expect(flipped.diffs.find((d) => d.path === 'isError')).toMatchObject({ reported: true });
  });

  it('where the replica did not reproduce live (digest mismatch), the candidate\'s difference is noise', () => {
    const replica = { result: { at: 1 }, isError: false, meta: { ...meta, answer_matches: false } };
    const out = compareEntry(entry(1), replica, { ...replica, result: { at: 2 } });
    expect(out).toMatchObject({ reported: 0, baselineNoisy: true });
    expect(out.diffs[0]!.verdict).toBe('noise');
  });
});

describe('idle pull wait (pure)', () => {
  it('starts at an eighth of the poll interval and doubles up to it', () => {
    const waits = [nextIdleWait(0, 200)];
    for (let i = 0; i < 4; i++) waits.push(nextIdleWait(waits.at(-1)!, 200));
    expect(waits).toEqual([25, 50, 100, 200, 200]);
    expect(nextIdleWait(0, 40)).toBe(10);
    expect(nextIdleWait(0, 5)).toBe(5);
  });
});

describe('options, clean span, report section', () => {
  it('parses durations and counts; a bad field is WVO_SOAK_OPTION_INVALID naming it', () => {
    expect(parseSoakStart({ for: '72h', checkpointCalls: '50', checkpointEvery: '30s', maxLag: 100 }).settings).toMatchObject({
      forMs: 72 * 3_600_000,
      checkpointCalls: 50,
      checkpointMs: 30_000,
      maxLagCalls: 100,
    });
    for (const [input, subject] of [
      [{ for: 'soon' }, 'for'],
      [{ checkpointCalls: '0' }, 'checkpointCalls'],
      [{ bogus: 1 }, 'bogus'],
    ] as const) {
      try {
        parseSoakStart(input);
        expect.unreachable();
      } catch (error) {
        expect(error).toMatchObject({ code: 'WVO_SOAK_OPTION_INVALID', subject });
      }
    }
  });

  it('a soak is clean from its start to its last checkpoint, and not at all once anything differed', () => {
    const base = { started_at: 1_000, checkpoint_at: 61_000, first_diff_at: null, error: null, answer_diffs: 0, state_diffs: 0 } as unknown as SoakRecord;
    expect(cleanSoakMs(base)).toBe(60_000);
    expect(cleanSoakMs({ ...base, state_diffs: 1 })).toBe(0);
    expect(cleanSoakMs({ ...base, first_diff_at: 5_000 })).toBe(0);
    expect(cleanSoakMs({ ...base, error: { code: 'WVO_SOAK_LAGGING', message: 'x' } })).toBe(0);
  });

  it('the soak section is inserted once before </body> and replaced in place after that', () => {
    const html = '<html><body><h1>report</h1></body></html>';
    const once = withSoakSection(html, '<section>one</section>');
    expect(once).toMatch(/<h1>report<\/h1><!-- wvo:soak:begin -->\n<section>one<\/section>\n<!-- wvo:soak:end -->\n<\/body>/);
    const twice = withSoakSection(once, '<section>two</section>');
    expect(twice).not.toContain('one');
    expect(twice.match(/wvo:soak:begin/g)).toHaveLength(1);
  });
});

describe('journal client against real HTTP servers', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function serve(status: number, body: unknown): Promise<string> {
    const server = createServer((_request, response) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function code(promise: Promise<unknown>): Promise<string | undefined> {
    try {
      await promise;
      return undefined;
    } catch (error) {
      return isWvoError(error) ? error.code : String(error);
    }
  }

  it('maps a journal-less worker, pruning, a rewritten journal and a missing token to soak codes', async () => {
    const older = await serve(404, { message: 'Route GET:/journal/head not found', error: 'Not Found', statusCode: 404 });
    expect(await code(new JournalClient(older, 't').head())).toBe('WVO_SOAK_NO_JOURNAL');
    const pruned = await serve(410, { ok: false, error: { code: 'WVO_JOURNAL_PRUNED', message: 'pruned', details: { oldest: 50 } } });
    expect(await code(new JournalClient(pruned, 't').page(3, 10))).toBe('WVO_SOAK_JOURNAL_GAP');
    const rewritten = await serve(409, { ok: false, error: { code: 'WVO_JOURNAL_AFTER_HEAD', message: 'after head' } });
    expect(await code(new JournalClient(rewritten, 't').page(90, 10))).toBe('WVO_SOAK_JOURNAL_REWRITTEN');
    const noToken = await serve(404, { ok: false, error: { code: 'WVO_ADMIN_DISABLED', message: 'no admin token configured' } });
    expect(await code(new JournalClient(noToken, undefined).head())).toBe('WVO_SOAK_JOURNAL_UNREACHABLE');
    expect(await code(new JournalClient('http://127.0.0.1:1', 't').head())).toBe('WVO_SOAK_JOURNAL_UNREACHABLE');
  });

  it('a prefetched page is used only from the cursor it was asked from; anything else is pulled again', async () => {
    const asked: string[] = [];
    const server = createServer((request, response) => {
      asked.push(request.url ?? '');
      const after = Number(new URL(request.url ?? '', 'http://x').searchParams.get('after'));
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ head: 9, last_seq: 9, entries: [entry(after + 1)] }));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const puller = new PagePuller(new JournalClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 't'));
    puller.prefetch(4, 10);
    expect((await puller.take(4, 10)).entries[0]?.seq).toBe(5);
    expect(asked).toEqual(['/journal?after=4&limit=10']);
    // A lane restart moved the cursor back: the early page is dropped.
    puller.prefetch(6, 10);
    expect((await puller.take(2, 10)).entries[0]?.seq).toBe(3);
    await puller.settle();
    expect(asked.slice(1).sort()).toEqual(['/journal?after=2&limit=10', '/journal?after=6&limit=10']);
    // A prefetch that failed surfaces when taken, not before.
    const down = new PagePuller(new JournalClient('http://127.0.0.1:1', 't'));
    down.prefetch(0, 10);
    expect(await code(down.take(0, 10))).toBe('WVO_SOAK_JOURNAL_UNREACHABLE');
  });

  it('a fork that ends before the live head it read first is a stale state: WVO_SOAK_FORK_MISMATCH, nothing left', async () => {
    const work = mkdtempSync(join(tmpdir(), 'wvo-fork-stale-'));
    try {
      // A state dir with an empty journal (a seed, not the live lane's state), while the live journal is at 5.
      const stale = join(work, 'stale');
      seedState({ stateRoot: stale, tasks: 3, seed: 1 });
      const url = await serve(200, { head: 5, last_seq: 5, oldest: 1, open: [], floor: null });
      const dests = [join(work, 'a'), join(work, 'b')];
      const error = await forkLive({ liveStateDir: stale, journal: new JournalClient(url, 't'), logger: silentLogger(), clock: systemClock, dests }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'WVO_SOAK_FORK_MISMATCH', details: { fork_seq: 0, live_head: 5 } });
      expect(dests.map((dest) => existsSync(dest))).toEqual([false, false]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('a fork takes its moment where the live state lives: from the runtime\'s live snapshot when there is one (scratch removed), else the local dir', async () => {
    const work = mkdtempSync(join(tmpdir(), 'wvo-fork-source-'));
    try {
      // The "volume" holds the journaled state; the local dir is empty (what forking it would find: no journal).
      const volume = join(work, 'volume');
      seedState({ stateRoot: volume, tasks: 3, seed: 1 });
      const local = join(work, 'local');
      mkdirSync(local);
      const url = await serve(200, { head: 0, last_seq: 0, oldest: null, open: [], floor: null });
      const taken: string[] = [];
      const runtime: Pick<LaneRuntime, 'snapshotLiveState'> = {
        // A real copy, as the helper's is: the volume's moment into the dir it is given.
        async snapshotLiveState({ destDir, exclude }) {
          taken.push(destDir);
          const snap = await snapshotCopies({ sourceRoot: volume, destRoots: [destDir], ...(exclude ? { exclude } : {}), logger: silentLogger(), clock: systemClock });
          return { host: 'hostb', volume: 'p-live-state', image: 'img:1', root: destDir, files: snap.manifest.files.length, bytes: 1, durationMs: 7 };
        },
      };
      const base = { liveStateDir: local, journal: new JournalClient(url, 't'), logger: silentLogger(), clock: systemClock };
      const liveDir = join(work, 'scratch');
      const dests = [join(work, 'a'), join(work, 'b')];
      const fork = await forkLive({ ...base, live: { runtime, liveDir }, dests });
      expect(taken).toEqual([liveDir]);
      expect(fork.source).toEqual({ kind: 'live-volume', host: 'hostb', volume: 'p-live-state', image: 'img:1', duration_ms: 7 });
      expect(fork.database).toBe('orchestrator.db');
      expect(dests.map((dest) => existsSync(join(dest, 'orchestrator.db')))).toEqual([true, true]);
      expect(existsSync(liveDir)).toBe(false);
      // A runtime whose live state is this machine's (no snapshot): the local dir, as before.
      const none: Pick<LaneRuntime, 'snapshotLiveState'> = { snapshotLiveState: async () => undefined };
      expect(await code(forkLive({ ...base, live: { runtime: none, liveDir }, dests: [join(work, 'c')] }))).toBe('WVO_SOAK_NO_JOURNAL');
      const plain = await forkLive({ ...base, liveStateDir: volume, live: { runtime: none, liveDir }, dests: [join(work, 'd')] });
      expect(plain.source).toEqual({ kind: 'state-root', root: volume });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
