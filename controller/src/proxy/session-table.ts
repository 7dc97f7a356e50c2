import { isBusy, newInFlight, type InFlight } from './in-flight.js';

/** Something that can be closed at a drain deadline: a relayed GET (SSE) stream. */
export interface Closable {
  close(): void;
}

/**
 * One client MCP session as the proxy sees it. `clientId` is the id the client holds (the id the
 * first lane minted); `upstreamId` is the id the lane it is pinned to knows — they differ once the
 * session has moved, and the proxy rewrites `Mcp-Session-Id` both ways.
 */
export interface Session {
  readonly clientId: string;
  lane: string;
  upstreamId: string;
  /** Request path of the `initialize` call (replayed there). */
  readonly path: string;
  /** The client's `initialize` request, byte for byte; absent for sessions adopted after a restart. */
  readonly initialize: Buffer | undefined;
  /** The client's `notifications/initialized`, once seen. */
  initialized: Buffer | undefined;
  /** Host/Origin the client used (replayed so lanes with DNS-rebinding checks accept the move). */
  readonly host: string | undefined;
  readonly origin: string | undefined;
  protocolVersion: string | undefined;
  readonly createdAt: number;
  lastSeenAt: number;
  moves: number;
  /** Lane that served the session's last GET stream: its Last-Event-ID cursors mean nothing elsewhere. */
  streamLane: string | undefined;
  /** Set while a move is running, so concurrent requests of the session wait for one move. */
  moving: Promise<void> | undefined;
  /** Open GET streams relayed for this session (closed when the session must leave its lane). */
  readonly streams: Set<Closable>;
  /** POSTs being forwarded and lane → client requests not answered yet (in-flight-aware moves). */
  readonly flight: InFlight;
  /** `list_changed` notifications owed after a move to a lane with another surface (sent on the next GET stream). */
  readonly notices: Set<string>;
  /** Set while the session is due to leave its lane (its lane stopped serving it); cleared by a move. */
  due: DueMove | undefined;
  /**
   * Requests a lane asked the client before a forced move took the session away: their answers
   * go back to that lane and upstream session (its tool call is still waiting for them there).
   */
  readonly leftBehind: Map<string, { lane: string; upstreamId: string }>;
  /** Run once no POST of the session is being forwarded (closing an upstream session a move left). */
  readonly afterPosts: Array<() => void>;
}

/** A session due to move, held back while work is in flight, up to the move grace. */
export interface DueMove {
  /** When the session became due (its lane's drain deadline, or first seen due). */
  readonly since: number;
  /** Counted once as deferred / forced. */
  deferred: boolean;
  forced: boolean;
}

export interface NewSession {
  clientId: string;
  lane: string;
  path: string;
  initialize?: Buffer;
  host?: string;
  origin?: string;
  protocolVersion?: string;
}

export interface SessionView {
  id: string;
  lane: string;
  upstream_id: string;
  moved: number;
  replayable: boolean;
  created_at: string;
  last_seen_at: string;
  open_streams: number;
  /** POSTs in flight and unanswered lane → client requests. */
  in_flight: { posts: number; asked: number };
  /** The session is due to move and waits for a quiet moment (since when). */
  due_since?: string;
}

/** The session table: client session id → lane and upstream id. Pure data, no I/O. */
export class SessionTable {
  private readonly sessions = new Map<string, Session>();
  /** Called after every change worth persisting (create, rebind, remove, captured handshake). */
  onChange: (() => void) | undefined;

  notify(): void {
    this.onChange?.();
  }

  get size(): number {
    return this.sessions.size;
  }

  get(clientId: string): Session | undefined {
    return this.sessions.get(clientId);
  }

  create(init: NewSession, now: number): Session {
    const session: Session = {
      clientId: init.clientId,
      lane: init.lane,
      upstreamId: init.clientId,
      path: init.path,
      initialize: init.initialize,
      initialized: undefined,
      host: init.host,
      origin: init.origin,
      protocolVersion: init.protocolVersion,
      createdAt: now,
      lastSeenAt: now,
      moves: 0,
      moving: undefined,
      streamLane: undefined,
      streams: new Set(),
      flight: newInFlight(),
      notices: new Set(),
      due: undefined,
      leftBehind: new Map(),
      afterPosts: [],
    };
    this.sessions.set(init.clientId, session);
    this.onChange?.();
    return session;
  }

  /** Point a session at a new lane and upstream id (after re-initializing it there). */
  rebind(session: Session, lane: string, upstreamId: string): void {
    // Requests the old lane asked belong to the upstream session left behind: their answers go there.
    for (const key of session.flight.asked.keys()) session.leftBehind.set(key, { lane: session.lane, upstreamId: session.upstreamId });
    session.flight.asked.clear();
    session.lane = lane;
    session.upstreamId = upstreamId;
    session.moves += 1;
    session.due = undefined;
    this.onChange?.();
  }

  remove(clientId: string): Session | undefined {
    const session = this.sessions.get(clientId);
    if (session) {
      this.sessions.delete(clientId);
      this.onChange?.();
    }
    return session;
  }

  onLane(lane: string): Session[] {
    return [...this.sessions.values()].filter((s) => s.lane === lane);
  }

  countByLane(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const s of this.sessions.values()) counts.set(s.lane, (counts.get(s.lane) ?? 0) + 1);
    return counts;
  }

  /** Forget sessions idle longer than `ttlMs` with no open stream; returns the removed sessions. */
  sweepIdle(now: number, ttlMs: number): Session[] {
    const removed: Session[] = [];
    for (const [id, s] of this.sessions) {
      if (s.streams.size === 0 && s.moving === undefined && !isBusy(s.flight) && now - s.lastSeenAt > ttlMs) {
        this.sessions.delete(id);
        removed.push(s);
      }
    }
    if (removed.length > 0) this.onChange?.();
    return removed;
  }

  list(): Session[] {
    return [...this.sessions.values()];
  }

  static view(s: Session): SessionView {
    return {
      id: s.clientId,
      lane: s.lane,
      upstream_id: s.upstreamId,
      moved: s.moves,
      replayable: s.initialize !== undefined,
      created_at: new Date(s.createdAt).toISOString(),
      last_seen_at: new Date(s.lastSeenAt).toISOString(),
      open_streams: s.streams.size,
      in_flight: { posts: s.flight.posts, asked: s.flight.asked.size },
      ...(s.due ? { due_since: new Date(s.due.since).toISOString() } : {}),
    };
  }
}
