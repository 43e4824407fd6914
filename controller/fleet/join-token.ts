// One-time join tokens, kubeadm style: `<id>.<secret>`. The id finds the record; only the
// secret's sha256 is stored, so a copy of the database cannot enroll a node.
import { createHash, randomBytes } from 'node:crypto';
import { NwError } from '../../host/errors.js';
import type { JoinToken } from '../store/store.js';

const TOKEN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

const randomWord = (n: number) => [...randomBytes(n)].map((b) => ALPHABET[b % 36]).join('');

export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

export function parseToken(token: string): { id: string; secret: string } {
  const m = TOKEN.exec(token.trim());
  if (!m) throw new NwError('NW_TOKEN', 'the join token is malformed (expected abcdef.0123456789abcdef): copy it from `nodewright nodes join-token`');
  return { id: m[1], secret: m[2] };
}

/** `30m`, `1h`, `2d`, `45s` → milliseconds. */
export function parseDuration(s: string, what = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(s.trim());
  if (!m) throw new NwError('NW_USAGE', `${what} '${s}' is not a duration: use e.g. 30s, 15m, 1h, 2d`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

export function newJoinToken(o: { group: string; labels: Record<string, string>; ttlMs: number; now: Date }): { token: string; record: JoinToken } {
  const id = randomWord(6);
  const secret = randomWord(16);
  const record: JoinToken = {
    id,
    secretHash: hashSecret(secret),
    group: o.group,
    labels: o.labels,
    createdAt: o.now.toISOString(),
    expiresAt: new Date(o.now.getTime() + o.ttlMs).toISOString(),
    usedAt: null,
    usedBy: null,
  };
  return { token: `${id}.${secret}`, record };
}

const LABEL = /^[A-Za-z0-9]([A-Za-z0-9._\/-]{0,61}[A-Za-z0-9])?$/;

/** `k=v,k2=v2` → {k: v, k2: v2}; NW_USAGE on a malformed pair. */
export function parseLabels(spec: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!spec) return out;
  for (const pair of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    const k = pair.slice(0, eq);
    const v = pair.slice(eq + 1);
    if (eq <= 0 || !LABEL.test(k) || (v !== '' && !LABEL.test(v))) throw new NwError('NW_USAGE', `label '${pair}' must be key=value (letters, digits, . _ / -)`);
    out[k] = v;
  }
  return out;
}
