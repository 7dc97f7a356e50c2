import { SseDataLines } from './sse-lines.js';

/**
 * What a session has in flight, so a move never cuts an exchange in half: the POST requests the
 * proxy is still forwarding, and the requests the lane sent the client (sampling
 * `sampling/createMessage`, elicitation `elicitation/create`, roots `roots/list`, ping — any
 * JSON-RPC request with an id flowing lane → client on an SSE stream) that the client has not
 * answered yet (a client POST carrying a JSON-RPC response with that id).
 */
export interface InFlight {
  /** POST requests of the session being forwarded now. */
  posts: number;
  /** Unanswered lane → client requests: id key → the POST stream that carried it (undefined: the GET stream). */
  readonly asked: Map<string, object | undefined>;
}

export function newInFlight(): InFlight {
  return { posts: 0, asked: new Map() };
}

export function isBusy(flight: InFlight): boolean {
  return flight.posts > 0 || flight.asked.size > 0;
}

/** A JSON-RPC id as a map key: `1` and `"1"` are different ids. */
export function idKey(id: unknown): string | undefined {
  return typeof id === 'string' || typeof id === 'number' ? JSON.stringify(id) : undefined;
}

const METHOD_KEY = Buffer.from('"method"');
const NEWLINE = 0x0a;
const ID_KEY = Buffer.from('"id"');
const RESULT_KEY = Buffer.from('"result"');
const ERROR_KEY = Buffer.from('"error"');
const CANCELLED = Buffer.from('"notifications/cancelled"');
/** Longest SSE line looked into; a server request is small (an elicitation schema, a prompt). */
const WATCH_LIMIT_BYTES = 1024 * 1024;

export type LaneMessage = { kind: 'request'; key: string } | { kind: 'cancelled'; key: string };

/** A lane → client message that opens or cancels a server request; undefined for anything else. */
export function laneMessage(payload: Buffer): LaneMessage | undefined {
  // Keys cannot hide inside JSON strings (quotes are escaped there): no marker, no parse — so
  // progress notifications and responses pass without JSON.parse.
  if (!payload.includes(METHOD_KEY) || !(payload.includes(ID_KEY) || payload.includes(CANCELLED))) return undefined;
  let message: { method?: unknown; id?: unknown; params?: { requestId?: unknown } } | null;
  try {
    message = JSON.parse(payload.toString('utf8')) as typeof message;
  } catch {
    return undefined;
  }
  if (message === null || typeof message !== 'object' || typeof message.method !== 'string') return undefined;
  if (message.method === 'notifications/cancelled') {
    const key = idKey(message.params?.requestId);
    return key === undefined ? undefined : { kind: 'cancelled', key };
  }
  const key = 'id' in message ? idKey(message.id) : undefined;
  return key === undefined ? undefined : { kind: 'request', key };
}

/** Ids of the JSON-RPC responses in a client POST body (one message or a batch); [] for requests. */
export function clientAnswers(body: Buffer | null): string[] {
  if (body === null || !body.includes(ID_KEY) || !(body.includes(RESULT_KEY) || body.includes(ERROR_KEY))) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return [];
  }
  const keys: string[] = [];
  for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
    if (message === null || typeof message !== 'object' || 'method' in message) continue;
    if (!('result' in message) && !('error' in message)) continue;
    const key = idKey((message as { id?: unknown }).id);
    if (key !== undefined) keys.push(key);
  }
  return keys;
}

/**
 * Reads one SSE response of a session (its GET stream, or a POST's stream) as it is forwarded and
 * records the lane's requests to the client in `flight.asked`. `stream` names the POST stream
 * (its requests die with it); undefined for the GET stream.
 */
export class ServerRequestWatcher {
  private sse = false;
  private lines: SseDataLines | undefined;
  /** The last chunk ended a line: no partial line is held. */
  private clean = true;

  constructor(
    private readonly flight: InFlight,
    private readonly stream: object | undefined,
  ) {}

  start(contentType: string | undefined): void {
    this.sse = contentType?.startsWith('text/event-stream') ?? false;
  }

  data(chunk: Buffer): void {
    if (!this.sse || chunk.length === 0) return;
    const endsLine = chunk[chunk.length - 1] === NEWLINE;
    // Fast path (nearly every chunk: a tool's answer, a progress notification): whole lines, and
    // none names a method, so none is a request — nothing to split.
    if (this.clean && endsLine && !chunk.includes(METHOD_KEY)) return;
    this.lines ??= new SseDataLines(WATCH_LIMIT_BYTES, (payload) => {
      const message = laneMessage(payload);
      if (message?.kind === 'request') this.flight.asked.set(message.key, this.stream);
      else if (message?.kind === 'cancelled') this.flight.asked.delete(message.key);
    });
    this.lines.push(chunk);
    this.clean = endsLine;
  }

  /**
   * The stream ended. A POST stream's requests served that POST's call, which is over now:
   * nothing on the lane waits for their answers any more.
   */
  end(): void {
    this.lines?.end();
    if (this.stream === undefined || this.flight.asked.size === 0) return;
    for (const [key, stream] of this.flight.asked) if (stream === this.stream) this.flight.asked.delete(key);
  }
}
