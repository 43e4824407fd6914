// An honest simulated agent for the R campaigns: its own TLS server on 127.0.0.1 with the
// certificate it enrolled with, the agent's acceptance rules (signature against the pinned key,
// then agent/acceptance.ts checkAcceptance), and a status that reports the accepted generation as
// converged and ready after a short "reconcile". It records every bundle it was sent: accepted as
// new, the same again (idempotent), or refused, per generation, with the content's rollout marker.
import type { KeyObject } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { acceptedGenerationOf, checkAcceptance, desiredDigest, type AcceptedGeneration } from '../agent/acceptance.js';
import { isNwError } from '../host/errors.js';
import { verifyBundle } from '../protocol/bundle.js';
import type { DesiredState } from '../protocol/desired.js';
import type { AgentStatus } from '../protocol/status.js';
import { sampleStatus } from './sim-agents.js';

export interface Acceptance {
  generation: number;
  /** The rollout the content belongs to (the kubelet image tag the campaign sets per rollout). */
  marker: string;
  digest: string;
  /** Accepted as new (stored and reconciled). */
  fresh: number;
  /** The same generation and content again (idempotent on a real agent). */
  same: number;
}

export interface Refusal {
  code: string;
  generation: number | null;
  marker: string | null;
}

const MAX_BODY = 1 << 20;

/** The content's marker: the kubelet image tag (each campaign rollout sets its own). */
export const markerOf = (d: DesiredState): string => (d.kubelet && 'tag' in d.kubelet ? d.kubelet.tag : '');

export class HonestAgent {
  held: AcceptedGeneration | null = null;
  readonly accepted = new Map<number, Acceptance>();
  readonly refusals: Refusal[] = [];
  /** When each POST /v1/desired arrived (ms since the epoch), whatever the answer. */
  readonly receipts: number[] = [];
  /** Facts reported in the status over the sample's (e.g. instanceUuid: the Nova server id). */
  facts: Partial<AgentStatus['facts']> = {};
  /** Rewrites the status it reports (a test makes the node unhealthy with the agent's own message). */
  override: ((s: AgentStatus) => AgentStatus) | null = null;
  private reconciled: { generation: number; at: string } | null = null;
  private acceptedAt = '';
  private server: https.Server | null = null;

  constructor(
    readonly name: string,
    readonly group: string,
    private readonly tls: { keyPem: string; certPem: string; caPem: string },
    private readonly signingKey: KeyObject,
    private readonly reconcileMs: number,
  ) {}

  async listen(port = 0): Promise<number> {
    const server = https.createServer({ key: this.tls.keyPem, cert: this.tls.certPem, ca: this.tls.caPem, requestCert: true, rejectUnauthorized: true, keepAliveTimeout: 60_000 }, (req, res) => {
      const answer = (code: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      };
      if (req.method === 'GET' && req.url === '/v1/status') return answer(200, this.status());
      if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/desired') return answer(404, { code: 'NW_NOT_FOUND', message: 'no such route' });
      this.receipts.push(Date.now());
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) req.destroy();
        else chunks.push(c);
      });
      req.on('end', () => {
        const r = this.accept(Buffer.concat(chunks).toString('utf8'));
        answer(r.status, r.body);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    return (server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  /** POST /v1/desired: what a real agent decides, recorded. */
  accept(text: string): { status: number; body: unknown } {
    let d: DesiredState | null = null;
    try {
      d = verifyBundle(JSON.parse(text), this.signingKey);
      const verdict = checkAcceptance(this.held, d, { node: this.name, nodeGroup: this.group }, new Date());
      let a = this.accepted.get(d.generation);
      if (!a) this.accepted.set(d.generation, (a = { generation: d.generation, marker: markerOf(d), digest: desiredDigest(d), fresh: 0, same: 0 }));
      if (verdict === 'same') {
        a.same++;
        return { status: 200, body: { accepted: true, generation: d.generation, changed: false } };
      }
      a.fresh++;
      this.held = acceptedGenerationOf(d);
      this.acceptedAt = new Date().toISOString();
      const g = d.generation;
      setTimeout(() => {
        if (this.held?.generation === g) this.reconciled = { generation: g, at: new Date().toISOString() };
      }, this.reconcileMs).unref();
      return { status: 202, body: { accepted: true, generation: g, changed: true } };
    } catch (e) {
      const code = isNwError(e) ? e.code : 'NW_BUNDLE';
      this.refusals.push({ code, generation: d?.generation ?? null, marker: d ? markerOf(d) : null });
      return { status: code === 'NW_STALE' || code === 'NW_GENERATION_CONFLICT' ? 409 : 400, body: { code, message: (e as Error).message } };
    }
  }

  status(): AgentStatus {
    const s = sampleStatus(this.name);
    s.facts = { ...s.facts, ...this.facts };
    const held = this.held;
    s.desired = held ? { generation: held.generation, nodeGroup: this.group, acceptedAt: this.acceptedAt } : null;
    const done = held !== null && this.reconciled?.generation === held.generation;
    s.lastReconcile = this.reconciled ? { at: this.reconciled.at, durationMs: this.reconcileMs, trigger: 'desired', ok: true, generation: this.reconciled.generation } : null;
    s.converged = held === null || done;
    s.ready = s.converged;
    s.inflight = held && !done ? { step: 'artifact', kind: 'image', phase: 'apply', since: this.acceptedAt } : null;
    return this.override ? this.override(s) : s;
  }
}
