// A hostile simulated agent (bench R3): an enrolled node whose every answer, to a poll or a push,
// is one of bench/hostile-responses.ts's kinds drawn at random; or, with `oldCert`, a node that
// looks perfectly healthy but serves a valid fleet certificate that is not the enrolled one (the
// one it held before `nodes remove` and a new join). Counts what it answered, per kind.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { hostileAnswer, HOSTILE_KINDS, type HostileAnswer, type HostileKind } from './hostile-responses.js';
import { sampleStatus } from './sim-agents.js';

/** An endless body stops here at the latest (a guard for the machine, far above any sane cap). */
const ENDLESS_CAP = 1 << 30;

export class HostileAgent {
  readonly answered = new Map<HostileKind | 'old-cert', number>();
  private signed: number | null = null;
  private server: https.Server | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly name: string,
    private readonly tls: { keyPem: string; certPem: string; caPem: string },
    private readonly o: { oldCert?: boolean; rnd?: () => number; kinds?: readonly HostileKind[] } = {},
  ) {}

  get responses(): number {
    let n = 0;
    for (const v of this.answered.values()) n += v;
    return n;
  }

  private count(k: HostileKind | 'old-cert'): void {
    this.answered.set(k, (this.answered.get(k) ?? 0) + 1);
  }

  async listen(port = 0): Promise<number> {
    const server = https.createServer({ key: this.tls.keyPem, cert: this.tls.certPem, ca: this.tls.caPem, requestCert: true, rejectUnauthorized: false, keepAliveTimeout: 60_000 }, (req, res) => {
      (req.socket as TLSSocket & { nwRequests?: number }).nwRequests = 1;
      const body: Buffer[] = [];
      req.on('data', (c: Buffer) => body.length < 64 && body.push(c));
      req.on('end', () => {
        if (req.method === 'POST') this.notePush(Buffer.concat(body).toString('utf8'));
        if (this.o.oldCert) {
          this.count('old-cert');
          const text = JSON.stringify(this.healthyStatus());
          return res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
        }
        const rnd = this.o.rnd ?? Math.random;
        const kind = (this.o.kinds ?? HOSTILE_KINDS)[Math.floor(rnd() * (this.o.kinds ?? HOSTILE_KINDS).length)];
        this.count(kind);
        this.send(res, hostileAnswer(kind, this.name, rnd, this.signed));
      });
    });
    // the old certificate: a client that pins the enrolled one hangs up after the handshake, before any request
    if (this.o.oldCert) {
      server.on('secureConnection', (s: TLSSocket & { nwRequests?: number }) => s.once('close', () => s.nwRequests || this.count('old-cert')));
    }
    this.server = server;
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    return (server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  /** A pushed bundle tells the generation the controller signed for this node (unsigned ones are reported around it). */
  private notePush(text: string): void {
    const m = /"generation":(\d+)/.exec(text);
    if (m) this.signed = Number(m[1]);
  }

  private healthyStatus() {
    const s = sampleStatus(this.name);
    const g = this.signed ?? 1;
    s.desired = { generation: g, nodeGroup: 'hostile', acceptedAt: s.desired!.acceptedAt };
    s.lastReconcile = { ...s.lastReconcile!, generation: g };
    return s;
  }

  private send(res: import('node:http').ServerResponse, a: HostileAnswer): void {
    const gone = () => res.destroyed || res.socket === null || res.socket.destroyed;
    switch (a.type) {
      case 'body':
        res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(a.body) }).end(a.body);
        return;
      case 'endless': {
        res.writeHead(a.status, { 'content-type': 'application/json' });
        let sent = 0;
        const pump = () => {
          while (!gone() && sent < ENDLESS_CAP) {
            sent += a.chunk.length;
            if (!res.write(a.chunk)) return void res.once('drain', pump);
          }
          if (!gone()) res.end();
        };
        pump();
        return;
      }
      case 'trickle': {
        res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(a.body) });
        let at = 0;
        const t = setInterval(() => {
          if (gone() || at >= a.body.length) {
            clearInterval(t);
            this.timers.delete(t);
            if (!gone()) res.end();
            return;
          }
          res.write(a.body.slice(at, (at += a.bytesPerTick)));
        }, a.tickMs);
        this.timers.add(t);
        return;
      }
      case 'reset': {
        res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': a.declared });
        res.write(a.prefix, () => {
          const s = res.socket as (TLSSocket & { resetAndDestroy?: () => void }) | null;
          try {
            s?.resetAndDestroy?.();
          } catch {
            s?.destroy();
          }
          if (s && !s.destroyed) s.destroy();
        });
        return;
      }
    }
  }
}
