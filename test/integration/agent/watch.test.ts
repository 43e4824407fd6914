// The drift watcher on a real file system (inotify): every change to a watched file is seen, also
// right after a repair replaced the file's inode, and directories that appear later are picked up.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import { DriftWatcher } from '../../../agent/watch.js';
import { RootedFs } from '../../../host/fs.js';
import { tempDir } from '../../tmp.js';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let w: DriftWatcher | null = null;
afterEach(async () => {
  await w?.close();
  w = null;
});

/** Resolves with the next drift event's file, or null after `ms`. */
function nextEvent(events: string[], ms = 2000): Promise<string | null> {
  const start = events.length;
  return new Promise((resolve) => {
    const t0 = Date.now();
    const poll = () => (events.length > start ? resolve(events[start]) : Date.now() - t0 > ms ? resolve(null) : setTimeout(poll, 2));
    poll();
  });
}

describe('drift watch (agent/watch.ts)', () => {
  test('30 tamper → repair-by-rename rounds in quick succession: no change goes unseen', async () => {
    const dir = tempDir('nw-watch-');
    const kr = path.join(dir, 'ceph.client.k8s.keyring');
    writeFileSync(kr, 'good\n');
    const events: string[] = [];
    w = new DriftWatcher(0, (f) => events.push(f), log);
    expect(await w.set([kr])).toBe(true);
    for (let i = 0; i < 30; i++) {
      const seen = nextEvent(events);
      writeFileSync(kr, `tampered ${i}\n`);
      expect(await seen).toBe(kr);
      // the agent's repair: temp file + rename over the watched file (a new inode)
      writeFileSync(`${kr}.tmp`, 'good\n');
      renameSync(`${kr}.tmp`, kr);
      await sleep(i % 3); // the next tamper comes at once or a few ms later
    }
  });

  test('unrelated files in a watched directory are ignored; an editor temp + rename counts once it lands', async () => {
    const dir = tempDir('nw-watch-');
    const conf = path.join(dir, 'ceph.conf');
    writeFileSync(conf, 'a\n');
    const events: string[] = [];
    w = new DriftWatcher(0, (f) => events.push(f), log);
    await w.set([conf]);
    writeFileSync(path.join(dir, 'other.conf'), 'x\n');
    writeFileSync(path.join(dir, '.ceph.conf.swp'), 'x\n');
    expect(await nextEvent(events, 300)).toBeNull();
    const seen = nextEvent(events);
    renameSync(path.join(dir, '.ceph.conf.swp'), conf);
    expect(await seen).toBe(conf);
  });

  test('a directory missing at set() is watched through its parent; once it appears the watch re-sets', async () => {
    const dir = tempDir('nw-watch-');
    const unit = path.join(dir, 'kubelet.service');
    const dropins = `${unit}.d`;
    writeFileSync(unit, '[Service]\n');
    const events: string[] = [];
    w = new DriftWatcher(0, (f) => events.push(f), log);
    await w.set([unit, dropins]);
    const appeared = nextEvent(events);
    mkdirSync(dropins);
    expect(await appeared).toBe(dropins);
    // the daemon re-sets after the reconcile that event triggered: the drop-in directory itself is watched now
    expect(await w.set([unit, dropins])).toBe(true);
    const dropin = nextEvent(events);
    writeFileSync(path.join(dropins, '50-override.conf'), '[Service]\nEnvironment=X=1\n');
    expect(await dropin).toBe(path.join(dropins, '50-override.conf'));
    expect(await w.set([unit, dropins])).toBe(false);
  });

  test("the agent's own atomic writes are not drift; anyone else's change right after is", async () => {
    const root = tempDir('nw-watch-');
    const fs = new RootedFs(root, '/var/lib/nodewright');
    await fs.writeAtomic('/etc/ceph/ceph.client.k8s.keyring', 'good\n', { mode: 0o600 });
    const kr = fs.resolve('/etc/ceph/ceph.client.k8s.keyring');
    const events: string[] = [];
    w = new DriftWatcher(0, (f) => events.push(f), log, (f) => fs.isOwnWrite(f));
    await w.set([kr]);
    for (let i = 0; i < 5; i++) await fs.writeAtomic('/etc/ceph/ceph.client.k8s.keyring', `good ${i}\n`, { mode: 0o600 });
    expect(await nextEvent(events, 300)).toBeNull();
    const seen = nextEvent(events);
    writeFileSync(kr, 'tampered\n');
    expect(await seen).toBe(kr);
    expect(fs.isOwnWrite(kr)).toBe(false);
  });
});
