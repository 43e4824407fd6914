// The agent renews its own certificate before it expires (kubelet client-certificate rotation is
// the model): at about 2/3 of its lifetime it makes a new key pair here, sends a CSR to the
// controller's POST /v1/renew over mutual TLS with the current certificate (the server must be the
// controller: role, not only the CA), writes the new key and certificate atomically, and hands them
// to the HTTP face, which swaps its TLS context without a restart. An unreachable or refusing
// controller is retried with backoff, logged with its code each time; a rate-limited one (429)
// no sooner than its Retry-After.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { NwError, isNwError, type ErrorCode } from '../host/errors.js';
import { RootedFs } from '../host/fs.js';
import { requestJsonFollowing } from '../host/http-json.js';
import { checkControllerIdentity, identityOf } from '../pki/identity.js';
import type { AgentTls } from './config.js';

/** Where a renewed key waits while its certificate is written: a crash between the two leaves a pair that start-up completes. */
export const nextKeyFile = (key: string) => `${key}.next`;

export interface TlsPems { certPem: string; keyPem: string; caPem: string }

/** When to renew a certificate valid from..to: 2/3 of its lifetime (never before now). */
export function renewalDue(validFrom: number, validTo: number): number {
  return validFrom + Math.floor(((validTo - validFrom) * 2) / 3);
}

/** Milliseconds a 429's Retry-After (seconds) asks for; 0 when absent or not a number. */
export function retryAfterMsOf(header: string | string[] | undefined): number {
  const s = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(s) && s > 0 ? Math.ceil(s * 1000) : 0;
}

/** Retry delays after a failed renewal: 5 s doubling, at most 5 min, and never past the expiry's last tenth. */
export function retryDelay(failures: number, msLeft: number): number {
  const backoff = Math.min(5_000 * 2 ** Math.max(0, failures - 1), 300_000);
  return Math.max(1_000, Math.min(backoff, Math.floor(msLeft / 10) || 1_000));
}

/** The wait after a failed renewal: the backoff, or longer when the controller asked for longer (429 Retry-After). */
export function nextRetryMs(failures: number, msLeft: number, retryAfterMs: number): number {
  return Math.max(retryDelay(failures, msLeft), retryAfterMs);
}

export interface RenewalDeps {
  controller: string;
  node: string;
  tls: AgentTls;
  log: Logger;
  /** The new material, after it is on disk. */
  onRenewed: (pems: TlsPems) => void;
  timeoutMs?: number;
  now?: () => number;
}

export interface RenewalCounters { renewals: number; failures: number; lastError: { code: string; message: string; at: string } | null; notAfter: string | null; renewAt: string | null }

async function readPems(tls: AgentTls): Promise<TlsPems> {
  const [certPem, keyPem, caPem] = await Promise.all([readFile(tls.cert, 'utf8'), readFile(tls.key, 'utf8'), readFile(tls.ca, 'utf8')]);
  return { certPem, keyPem, caPem };
}

/** One renewal: CSR over mutual TLS, checks of the answer, files written (key staged first). */
export async function renewOnce(d: RenewalDeps): Promise<TlsPems> {
  const current = await readPems(d.tls);
  // the certificate library loads only when a renewal runs (a side bundle in the package)
  const { createKeyAndCsr } = await import('../pki/index.js');
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: d.node });
  const url = new URL('/v1/renew', d.controller);
  let r;
  try {
    // an HA follower answers 307 with the leader's URL: followed with the same CA and role check
    r = await requestJsonFollowing(url, {
      method: 'POST', body: JSON.stringify({ csr: csrPem }), timeoutMs: d.timeoutMs ?? 30_000,
      ca: current.caPem, cert: current.certPem, key: current.keyPem, checkServerIdentity: checkControllerIdentity,
    });
  } catch (e) {
    if (isNwError(e)) throw e;
    throw new NwError('NW_RENEW', `cannot reach the controller at ${url.origin} to renew the certificate: ${(e as Error).message}; retrying with backoff`);
  }
  if (r.status !== 200) {
    const code = (typeof r.json?.code === 'string' && /^NW_[A-Z_]+$/.test(r.json.code) ? r.json.code : 'NW_RENEW') as ErrorCode;
    const retryAfterMs = r.status === 429 ? retryAfterMsOf(r.headers['retry-after']) : 0;
    throw new NwError(code, `the controller refused the certificate renewal (${r.status}): ${r.json?.message ?? 'no reason given'}`, retryAfterMs ? { retryAfterMs } : undefined);
  }
  const certPem = typeof r.json?.cert === 'string' ? r.json.cert : '';
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new NwError('NW_RENEW', 'the controller answered the renewal without a certificate: check the controller version');
  }
  const id = identityOf(cert);
  const ca = new X509Certificate(current.caPem);
  if (!id || id.role !== 'agent' || id.name !== d.node || !cert.checkIssued(ca) || !cert.verify(ca.publicKey) || !cert.checkPrivateKey(createPrivateKey(keyPem))) {
    throw new NwError('NW_RENEW', `the renewed certificate is not for agent ${d.node} with the new key from the fleet CA: refusing it; check the controller`);
  }
  const fs = new RootedFs('/');
  await fs.writeAtomic(nextKeyFile(d.tls.key), keyPem, { mode: 0o600, backup: false });
  await fs.writeAtomic(d.tls.cert, certPem, { mode: 0o644, backup: false });
  await fs.writeAtomic(d.tls.key, keyPem, { mode: 0o600, backup: false });
  await fs.remove(nextKeyFile(d.tls.key));
  return { certPem, keyPem, caPem: current.caPem };
}

/** Runs until stop(): waits for the renewal point of the certificate on disk, renews, repeats. */
export function startCertRenewal(d: RenewalDeps): { stop(): void; counters: RenewalCounters } {
  const now = d.now ?? Date.now;
  const counters: RenewalCounters = { renewals: 0, failures: 0, lastError: null, notAfter: null, renewAt: null };
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let failuresInRow = 0;
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => void tick(), Math.min(Math.max(0, ms), 2 ** 31 - 1));
    timer.unref();
  };
  const validityOf = (pem: string) => {
    const cert = new X509Certificate(pem);
    const v = { from: Date.parse(cert.validFrom), to: Date.parse(cert.validTo) };
    counters.notAfter = new Date(v.to).toISOString();
    counters.renewAt = new Date(renewalDue(v.from, v.to)).toISOString();
    return v;
  };
  const validity = async () => validityOf(await readFile(d.tls.cert, 'utf8'));
  const tick = async () => {
    let v: { from: number; to: number };
    try {
      v = await validity();
    } catch (e) {
      d.log.error({ code: 'NW_TLS', err: (e as Error).message, file: d.tls.cert }, 'NW_TLS: cannot read the agent certificate to plan its renewal; retrying');
      return schedule(60_000);
    }
    const due = renewalDue(v.from, v.to);
    if (now() < due) return schedule(due - now());
    try {
      const pems = await renewOnce(d);
      if (stopped) return;
      d.onRenewed(pems);
      failuresInRow = 0;
      counters.renewals++;
      counters.lastError = null;
      const next = validityOf(pems.certPem);
      d.log.info({ notAfter: counters.notAfter, renewAt: counters.renewAt }, 'certificate renewed');
      schedule(renewalDue(next.from, next.to) - now());
    } catch (e) {
      failuresInRow++;
      counters.failures++;
      const code = isNwError(e) ? e.code : 'NW_RENEW';
      counters.lastError = { code, message: (e as Error).message, at: new Date(now()).toISOString() };
      const asked = isNwError(e) && typeof e.details?.retryAfterMs === 'number' ? e.details.retryAfterMs : 0;
      const wait = nextRetryMs(failuresInRow, v.to - now(), asked);
      d.log.error({ code, err: (e as Error).message, retryInMs: wait, notAfter: counters.notAfter }, `${code}: certificate renewal failed; retrying`);
      schedule(wait);
    }
  };
  schedule(0);
  return {
    counters,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
