import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../../common/src/clock.js';
import type { Logger } from '../../../common/src/logger.js';
import { SNAPSHOT_EXCLUDE } from '../harness/index.js';
import type { LaneRuntime } from '../runtime/index.js';
import { openReadOnly, snapshotCopies, type SnapshotManifest } from '../state/index.js';
import { soakErrors } from './errors.js';
import type { ForkSource } from './soak-record.js';
import type { JournalClient, LiveEntry } from './journal-client.js';
import { entryIdentity } from './journal-order.js';

export interface Fork {
  /** The journal seq the fork holds: every entry up to it, none after. */
  readonly seq: number;
  /** The identity of entry `seq` as the fork holds it (null for an empty journal). */
  readonly entry: { seq: number; sha256: string } | null;
  /** The database file (relative) that holds the journal. */
  readonly database: string;
  readonly manifest: SnapshotManifest;
  /** Where the moment was taken: the live volume on its host, or this machine's state dir. */
  readonly source: ForkSource;
}

/** What a fork's own journal says (read from the copy, never from the live lane). */
export interface ForkJournal {
  readonly database: string;
  readonly last_seq: number;
  readonly open: readonly number[];
  readonly last: LiveEntry | undefined;
}

/** Reads the journal of a snapshot copy: which database holds it, its last seq, entries still open. */
export function readForkJournal(root: string, manifest: Pick<SnapshotManifest, 'files'>): ForkJournal | undefined {
  for (const file of manifest.files.filter((f) => f.kind === 'sqlite')) {
    const db = openReadOnly(join(root, file.path), 'fork database');
    try {
      const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'journal'").get();
      if (!table) continue;
      const last_seq = (db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM journal').get() as { n: number }).n;
      const open = (db.prepare("SELECT seq FROM journal WHERE status = 'open' ORDER BY seq").all() as Array<{ seq: number }>).map((row) => row.seq);
      const row = db.prepare('SELECT * FROM journal WHERE seq = ?').get(last_seq) as Record<string, string | number | null> | undefined;
      const last = row
        ? ({ ...row, args: JSON.parse(String(row.args)), times: JSON.parse(String(row.times)), ids: JSON.parse(String(row.ids)), runs: JSON.parse(String(row.runs)) } as unknown as LiveEntry)
        : undefined;
      return { database: file.path, last_seq, open, last };
    } finally {
      db.close();
    }
  }
  return undefined;
}

export interface ForkInput {
  readonly liveStateDir: string;
  /**
   * The runtime and a local scratch dir: when the live state is a volume on its host, each try's
   * moment is taken there (LaneRuntime.snapshotLiveState) into `liveDir` and the forks are copied
   * from that (`liveStateDir` then holds only what the volume was seeded from), as the upgrade's
   * snapshot step does.
   */
  readonly live?: { runtime: Pick<LaneRuntime, 'snapshotLiveState'>; liveDir: string };
  readonly journal: JournalClient;
  /** One directory per lane; all receive the same moment. */
  readonly dests: readonly string[];
  readonly logger: Logger;
  readonly clock: Clock;
  /**
   * How long to keep trying for a moment with no call between its transactions (default 30 s):
   * under writer load some dispatch is nearly always running its command, so a blind retry
   * rarely lands; the fork waits for the live head to list none open, then copies at once.
   */
  readonly timeoutMs?: number;
}

const DEFAULT_FORK_TIMEOUT_MS = 30_000;
/** Between head reads while a call is open: short, since a quiet moment may last milliseconds. */
const QUIET_POLL_MS = 5;

/**
 * Fork the live state at a journal seq: a consistent snapshot (the state room's copies), then the
 * proof that it corresponds to a seq: the copy's own journal has no open entry (a call half
 * inside the fork would be replayed twice), and the live journal holds the copy's last entry,
 * identical. The floor is set first so retention cannot prune what the soak is about to replay;
 * a fork that fails clears it again (no soak holds retention back).
 */
export async function forkLive(input: ForkInput): Promise<Fork> {
  const before = await input.journal.head(); // WVO_SOAK_NO_JOURNAL for an older worker, before any copying
  await input.journal.setFloor(before.head + 1);
  try {
    return await forkAtQuietMoment(input, before.head);
  } catch (error) {
    await input.journal.setFloor(null).catch((cleared: unknown) => input.logger.warn({ err: cleared }, 'could not clear the live journal floor after a failed fork'));
    throw error;
  }
}

/** `liveHead`: the live journal's head before the first copy; a copy that ends before it is not of the live state. */
async function forkAtQuietMoment(input: ForkInput, liveHead: number): Promise<Fork> {
  const deadline = input.clock.now() + (input.timeoutMs ?? DEFAULT_FORK_TIMEOUT_MS);
  let open: readonly number[] = [];
  let attempts = 0;
  for (;;) {
    attempts += 1;
    const { manifest, source } = await takeMoment(input);
    const journal = readForkJournal(input.dests[0]!, manifest);
    if (!journal) {
      await removeAll(input.dests);
      const where = source.kind === 'live-volume' ? `volume ${source.volume} on host "${source.host}"` : input.liveStateDir;
      throw soakErrors.create('WVO_SOAK_NO_JOURNAL', `no database under ${where} has a journal table`, {
        subject: source.kind === 'live-volume' ? source.volume : input.liveStateDir,
        hint: 'The live state was written by a worker older than the call journal (migration 005): upgrade the live worker first.',
      });
    }
    if (journal.open.length === 0) {
      await verifyAgainstLive(input.journal, journal, input.dests, liveHead);
      const entry = journal.last ? entryIdentity(journal.last) : null;
      return { seq: journal.last_seq, entry, database: journal.database, manifest, source };
    }
    open = journal.open;
    await removeAll(input.dests);
    if (!(await quietMoment(input.journal, input.clock, deadline))) break;
  }
  throw soakErrors.create('WVO_SOAK_FORK_OPEN', `every fork (${attempts} in ${Math.round((input.timeoutMs ?? DEFAULT_FORK_TIMEOUT_MS) / 1000)} s) caught a live call between its transactions (open entries ${open.join(', ')})`, {
    subject: 'fork',
    details: { open, attempts },
    hint: 'A call (dispatch runs its command between two transactions) was in flight at every try: start the soak with a longer --fork-timeout, or when the live lane is less busy.',
  });
}

/**
 * One consistent moment copied into every dest: from a fresh snapshot of the live volume where it
 * lives (its scratch dir removed once copied), else from the local state dir.
 */
async function takeMoment(input: ForkInput): Promise<{ manifest: SnapshotManifest; source: ForkSource }> {
  const remote = await input.live?.runtime.snapshotLiveState?.({ destDir: input.live.liveDir, exclude: SNAPSHOT_EXCLUDE });
  try {
    const snap = await snapshotCopies({ sourceRoot: remote?.root ?? input.liveStateDir, destRoots: input.dests, exclude: SNAPSHOT_EXCLUDE, logger: input.logger, clock: input.clock });
    const source: ForkSource = remote
      ? { kind: 'live-volume', host: remote.host, volume: remote.volume, image: remote.image, duration_ms: remote.durationMs }
      : { kind: 'state-root', root: input.liveStateDir };
    return { manifest: snap.manifest, source };
  } finally {
    if (remote) await rm(remote.root, { recursive: true, force: true });
  }
}

/** Until the live journal lists no open call (true), or the deadline passes (false). Reads only. */
async function quietMoment(journal: JournalClient, clock: Clock, deadline: number): Promise<boolean> {
  while (clock.now() < deadline) {
    if ((await journal.head()).open.length === 0) return true;
    await clock.sleep(QUIET_POLL_MS);
  }
  return false;
}

async function verifyAgainstLive(client: JournalClient, journal: ForkJournal, dests: readonly string[], liveHead: number): Promise<void> {
  // The live head only grows and retention always keeps it, so a copy taken after it was read
  // holds at least that seq: one that ends earlier (an empty journal included) is a stale state.
  if (journal.last_seq < liveHead) {
    await removeAll(dests);
    throw soakErrors.create('WVO_SOAK_FORK_MISMATCH', `the fork's journal ends at ${journal.last_seq}, but the live journal had reached ${liveHead} before the copy was taken`, {
      subject: 'fork',
      details: { fork_seq: journal.last_seq, live_head: liveHead },
      hint: 'The state directory is not the live lane\'s (or it is an older copy of it): check `wvo lanes` and fork again.',
    });
  }
  if (journal.last_seq === 0) return;
  const page = await client.page(journal.last_seq - 1, 1);
  const live = page.entries[0];
  const mine = journal.last ? entryIdentity(journal.last) : undefined;
  const theirs = live ? entryIdentity(live) : undefined;
  if (!live || live.seq !== journal.last_seq || mine?.sha256 !== theirs?.sha256) {
    await removeAll(dests);
    throw soakErrors.create('WVO_SOAK_FORK_MISMATCH', `the fork's journal ends at ${journal.last_seq}, but the live journal's entry there is ${live ? `another (seq ${live.seq})` : 'missing'}`, {
      subject: 'fork',
      details: { fork: mine ?? null, live: theirs ?? null },
      hint: 'The state directory is not the live lane\'s (or it was replaced): check `wvo lanes` and fork again.',
    });
  }
}

async function removeAll(dirs: readonly string[]): Promise<void> {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}
