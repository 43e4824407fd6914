// Server-sent event streams of the dashboard: one hijacked response per open page, a tick at most
// every `tickMs` that asks the page's producer for messages (it sends only when the change
// revision moved), a comment line now and then so proxies keep the connection. Streams end when
// the server closes (preClose), like the follow streams of /v1/events.
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** `data` absent: an id-only message (moves the client's Last-Event-ID on, dispatches nothing). */
export interface SseMessage { id?: string; event?: string; data?: string }

/** One message in the wire format: every line of `data` its own `data:` line. */
export function sseText(m: SseMessage): string {
  let out = '';
  if (m.id) out += `id: ${m.id}\n`;
  if (m.event) out += `event: ${m.event}\n`;
  if (m.data !== undefined) for (const line of m.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + '\n';
}

export interface StreamProducer {
  /** Messages to send now (an empty list: nothing). Called once at the start, then every tick. */
  next(): Promise<SseMessage[]>;
}

const KEEPALIVE_MS = 15_000;

export class SseStreams {
  private readonly open = new Map<ServerResponse, NodeJS.Timeout>();

  constructor(private readonly tickMs = 500) {}

  get count(): number {
    return this.open.size;
  }

  start(req: FastifyRequest, reply: FastifyReply, p: StreamProducer): void {
    reply.hijack();
    const res = reply.raw;
    req.raw.socket.setTimeout(0); // a quiet stream is not an idle connection
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write(': nodewright\n\n');
    let busy = false;
    let quietSince = Date.now();
    const tick = async () => {
      if (busy || res.writableEnded) return;
      busy = true;
      try {
        const msgs = await p.next();
        if (msgs.length) {
          res.write(msgs.map(sseText).join(''));
          quietSince = Date.now();
        } else if (Date.now() - quietSince >= KEEPALIVE_MS) {
          res.write(': keepalive\n\n');
          quietSince = Date.now();
        }
      } catch {
        res.destroy(); // the store is gone (stopping) or the page's subject vanished: the client reconnects
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), this.tickMs);
    this.open.set(res, timer);
    res.on('close', () => {
      clearInterval(timer);
      this.open.delete(res);
    });
    void tick();
  }

  closeAll(): void {
    for (const [res, timer] of this.open) {
      clearInterval(timer);
      res.end();
    }
    this.open.clear();
  }
}
