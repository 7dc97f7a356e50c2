import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Logger } from '../../../common/src/logger.js';
import type { Session, SessionTable } from './session-table.js';

/**
 * The session table on disk, so a restarted proxy (kill -9 included) still knows each session's
 * lane, upstream id and saved `initialize` — and can move it at a later drain deadline instead of
 * answering 404. Saves are debounced (losing the last fraction of a second of new sessions only
 * makes those sessions "adopted" after a crash) and atomic (temp file + rename), without fsync.
 */
export const SessionFileSchema = z.object({
  version: z.literal(1),
  sessions: z.array(
    z.object({
      id: z.string(),
      lane: z.string(),
      upstream_id: z.string(),
      path: z.string(),
      initialize: z.string().nullable(),
      initialized: z.string().nullable(),
      host: z.string().nullable(),
      origin: z.string().nullable(),
      protocol_version: z.string().nullable(),
      created_at: z.number(),
      moves: z.number(),
    }),
  ),
});
export type SessionFile = z.infer<typeof SessionFileSchema>;

const b64 = (value: Buffer | undefined) => (value === undefined ? null : value.toString('base64'));

export function serializeSessions(sessions: readonly Session[]): SessionFile {
  return {
    version: 1,
    sessions: sessions.map((s) => ({
      id: s.clientId,
      lane: s.lane,
      upstream_id: s.upstreamId,
      path: s.path,
      initialize: b64(s.initialize),
      initialized: b64(s.initialized),
      host: s.host ?? null,
      origin: s.origin ?? null,
      protocol_version: s.protocolVersion ?? null,
      created_at: s.createdAt,
      moves: s.moves,
    })),
  };
}

/** Fill `table` from `file`, keeping only sessions whose lane is still registered. */
export function restoreSessions(table: SessionTable, file: SessionFile, isLane: (name: string) => boolean, now: number): number {
  let restored = 0;
  for (const entry of file.sessions) {
    if (!isLane(entry.lane)) continue;
    const session = table.create(
      {
        clientId: entry.id,
        lane: entry.lane,
        path: entry.path,
        ...(entry.initialize !== null ? { initialize: Buffer.from(entry.initialize, 'base64') } : {}),
        ...(entry.host !== null ? { host: entry.host } : {}),
        ...(entry.origin !== null ? { origin: entry.origin } : {}),
        ...(entry.protocol_version !== null ? { protocolVersion: entry.protocol_version } : {}),
      },
      now,
    );
    session.upstreamId = entry.upstream_id;
    session.moves = entry.moves;
    if (entry.initialized !== null) session.initialized = Buffer.from(entry.initialized, 'base64');
    restored += 1;
  }
  return restored;
}

export class SessionStore {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly table: SessionTable,
    private readonly logger: Logger,
    private readonly debounceMs = 250,
  ) {}

  async load(isLane: (name: string) => boolean, now: number): Promise<number> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return 0;
    }
    const parsed = SessionFileSchema.safeParse((() => {
      try {
        return JSON.parse(text);
      } catch {
        return undefined;
      }
    })());
    if (!parsed.success) {
      // Sessions are a cache of what the lanes know: a bad file costs replayability, not routing.
      this.logger.warn({ path: this.path }, 'session file unreadable; starting with no sessions');
      return 0;
    }
    return restoreSessions(this.table, parsed.data, isLane, now);
  }

  /** Note a change; the table is written once per debounce window. */
  changed(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writing = this.writing.then(() => this.write());
    }, this.debounceMs);
    this.timer.unref();
  }

  /** Write now (pending changes included) and stop. */
  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.writing = this.writing.then(() => this.write());
    }
    await this.writing;
  }

  private async write(): Promise<void> {
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(serializeSessions(this.table.list())));
      await rename(tmp, this.path);
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      this.logger.warn({ err: error, path: this.path }, 'session file not written');
    }
  }
}
