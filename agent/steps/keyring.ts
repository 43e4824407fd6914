// keyring + ceph.conf: /etc/ceph/ceph.client.<id>.keyring (0600) and a minimal ceph.conf,
// written atomically and only when the content (or the keyring's mode) differs.
import { CEPH_CONF_PATH, keyringPath, type CephDesired, type DesiredState } from '../../protocol/desired.js';
import { NwError } from '../../host/errors.js';
import type { Backup } from '../../host/fs.js';
import { lineDiff } from '../render.js';
import type { Step, StepContext } from './types.js';

export interface CephFile {
  path: string;
  content: string;
  mode: number;
  secret: boolean;
}
export interface ObservedFile {
  path: string;
  content: string | null;
  mode: number | null;
}
export interface KeyringPlan {
  writes: (CephFile & { before: string | null; reason: string })[];
}

/** A ceph.conf with only what clients need (a `run dir` that does not exist makes ceph-fuse abort). */
export function minimalCephConf(c: CephDesired): string {
  return `# written by nodewright-agent; edit the desired state, not this file\n[global]\nfsid = ${c.fsid}\nmon host = ${c.monHost.join(',')}\n`;
}

export function desiredCephFiles(c: CephDesired): CephFile[] {
  const keyring = c.keyring.endsWith('\n') ? c.keyring : c.keyring + '\n';
  return [
    { path: keyringPath(c), content: keyring, mode: 0o600, secret: true },
    { path: CEPH_CONF_PATH, content: c.conf ?? minimalCephConf(c), mode: 0o644, secret: false },
  ];
}

export function planKeyring(observed: ObservedFile[], c: CephDesired): KeyringPlan | null {
  const writes: KeyringPlan['writes'] = [];
  for (const f of desiredCephFiles(c)) {
    const o = observed.find((x) => x.path === f.path);
    const before = o?.content ?? null;
    if (before === null) writes.push({ ...f, before, reason: 'missing' });
    else if (before !== f.content) writes.push({ ...f, before, reason: 'content differs' });
    else if (o?.mode !== f.mode) writes.push({ ...f, before, reason: `mode ${o?.mode?.toString(8)} ≠ ${f.mode.toString(8)}` });
  }
  return writes.length ? { writes } : null;
}

async function observeFile(ctx: StepContext, p: string): Promise<ObservedFile> {
  // Stat first: a file deleted between the two reads then reads as missing, not as an error.
  const mode = await ctx.host.fs.stat(p).then(
    (st) => st.mode & 0o7777,
    () => null,
  );
  const content = mode === null ? null : await ctx.host.fs.readTextIfExists(p);
  return { path: p, content, mode: content === null ? null : mode };
}

type Undo = { backups: Backup[]; created: string[] };

export const keyringStep: Step<ObservedFile[], KeyringPlan, Undo> = {
  name: 'keyring',
  async skip(d) {
    return d.ceph ? null : { state: 'not-configured', message: 'no ceph client in the desired state' };
  },
  observe: (ctx, d: DesiredState) => Promise.all(desiredCephFiles(d.ceph!).map((f) => observeFile(ctx, f.path))),
  plan: (observed, d) => planKeyring(observed, d.ceph!),
  render: (p) => p.writes.map((w) => `# ${w.path}: ${w.reason}\n${lineDiff(w.path, w.before, w.content, w.secret)}`).join('\n'),
  newUndo: () => ({ backups: [], created: [] }),
  async apply(ctx, plan, _d, undo) {
    await ctx.host.fs.mkdirp('/etc/ceph');
    for (const w of plan.writes) {
      const b = await ctx.host.fs.writeAtomic(w.path, w.content, { mode: w.mode });
      if (b) undo.backups.push(b);
      else undo.created.push(w.path);
    }
  },
  async verify(ctx, plan) {
    for (const w of plan.writes) {
      const o = await observeFile(ctx, w.path);
      if (o.content !== w.content || o.mode !== w.mode) {
        throw new NwError('NW_FS', `${w.path} does not read back as written (mode ${o.mode?.toString(8)}): check the filesystem`);
      }
    }
    return `wrote ${plan.writes.map((w) => w.path).join(', ')}`;
  },
  async rollback(ctx, _plan, _d, undo) {
    for (const b of undo.backups) await ctx.host.fs.restore(b);
    for (const p of undo.created) await ctx.host.fs.remove(p);
    return { note: `restored ${undo.backups.length} file(s), removed ${undo.created.length}`, restored: true };
  },
};
