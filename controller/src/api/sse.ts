import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ControllerEvent, EventBus } from '../operations/index.js';

/** One SSE frame: `id`, `event` (the event's type) and the JSON on one `data` line. */
export function sseFrame(event: ControllerEvent & { seq: number }): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * `GET /events`: each client gets every bus event from the moment it connects, a heartbeat
 * comment every `heartbeatMs`, and is removed (unsubscribed, timer cleared) when it disconnects.
 */
export class SseHub {
  private readonly streams = new Set<() => void>();

  constructor(
    private readonly bus: EventBus,
    private readonly heartbeatMs: number,
    private readonly onCountChange: (count: number) => void = () => undefined,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  attach(_request: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx and friends buffer responses unless told not to.
      'x-accel-buffering': 'no',
    });
    res.write(': connected\n\n');
    const unsubscribe = this.bus.subscribe((event) => {
      res.write(sseFrame(event));
    });
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), this.heartbeatMs);
    heartbeat.unref();
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      this.streams.delete(close);
      this.onCountChange(this.streams.size);
      if (!res.writableEnded) res.end();
    };
    this.streams.add(close);
    this.onCountChange(this.streams.size);
    // The response's `close` (not the request's: that fires once a GET's empty body is read)
    // is the client going away.
    res.on('close', close);
    res.on('error', close);
  }

  /** End every stream (server shutdown: open streams would keep `close()` waiting forever). */
  closeAll(): void {
    for (const close of [...this.streams]) close();
  }
}
