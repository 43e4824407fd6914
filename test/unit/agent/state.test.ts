import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHost } from '../../../host/index.js';
import { StateStore } from '../../../agent/state.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const store = () => {
  const root = mkdtempSync(path.join(tmpdir(), 'nw-state-'));
  dirs.push(root);
  return { root, s: new StateStore(createHost({ root, stateDir: '/var/lib/nodewright' })) };
};

describe('StateStore', () => {
  it('in-flight records written before `kind` existed are read back in the new shape', async () => {
    const { root, s } = store();
    mkdirSync(path.join(root, 'var/lib/nodewright'), { recursive: true });
    const v2 = { version: 'v2', sha256: '2'.repeat(64) };
    const old = { step: 'artifact', phase: 'swapped', target: '/usr/local/bin/kubelet', staged: '/usr/local/bin/.kubelet.nw-staged', unit: 'kubelet.service', next: v2, previous: null, since: 't' };
    writeFileSync(path.join(root, 'var/lib/nodewright/state.json'), JSON.stringify({ schema: 1, inflight: old }));
    expect((await s.load()).inflight).toEqual({ kind: 'binary', phase: 'swapped', unit: 'kubelet.service', target: old.target, staged: old.staged, artifact: v2, previous: null, since: 't' });
    const unit = { step: 'unit', phase: 'written', unit: 'kubelet.service', backups: [], created: [], since: 't', expect: [{ variable: 'KUBELET_IMAGE_TAG', contains: ['v2'] }] };
    writeFileSync(path.join(root, 'var/lib/nodewright/state.json'), JSON.stringify({ schema: 1, inflight: unit }));
    expect((await s.load()).inflight).toEqual({ kind: 'unit', phase: 'written', unit: 'kubelet.service', backups: [], created: [], since: 't', expect: [{ variable: 'KUBELET_IMAGE_TAG', value: 'v2' }] });
  });

  it('overlapping updates are applied one after another: none is lost', async () => {
    const { s } = store();
    await s.load();
    await Promise.all([
      s.update((st) => void (st.rollbacks += 1)),
      s.update((st) => void (st.reconciles += 1)),
      s.update((st) => void (st.rollbacks += 1)),
    ]);
    expect(s.get().rollbacks).toBe(2);
    expect(s.get().reconciles).toBe(1);
    const again = await store().s.load(); // a fresh store on another root starts empty
    expect(again.rollbacks).toBe(0);
  });

  it('persists atomically and reloads; a failed update does not block the next', async () => {
    const { root, s } = store();
    await s.load();
    await expect(s.update(() => { throw new Error('boom'); })).rejects.toThrow('boom');
    await s.update((st) => void (st.rollbacks = 7));
    const reloaded = new StateStore(createHost({ root, stateDir: '/var/lib/nodewright' }));
    expect((await reloaded.load()).rollbacks).toBe(7);
  });

  it('a corrupt state file is a coded error that says what to do', async () => {
    const { root, s } = store();
    mkdirSync(path.join(root, 'var/lib/nodewright'), { recursive: true });
    writeFileSync(path.join(root, 'var/lib/nodewright/state.json'), '{"schema": 1, "bund');
    await expect(s.load()).rejects.toMatchObject({ code: 'NW_STATE', message: expect.stringMatching(/move it aside/) });
  });

  it('a file of the wrong shape is NW_STATE naming the field, and nothing is overwritten', async () => {
    const { root, s } = store();
    mkdirSync(path.join(root, 'var/lib/nodewright'), { recursive: true });
    const file = path.join(root, 'var/lib/nodewright/state.json');
    for (const [text, field] of [
      ['{"schema": 1, "rollbacks": "many"}', '/rollbacks'],
      ['{"schema": 2}', '/schema'],
      ['{"schema": 1, "highestAccepted": {"generation": 0, "sha256": "x"}}', '/highestAccepted'],
      ['{"schema": 1, "bundle": {"kind": "nodewright.bundle/v1", "desired": {}}}', '/bundle'],
      ['{"schema": 1, "kubelet": {"current": "v1"}}', '/kubelet'],
      ['[1, 2]', 'not a JSON object'],
      ['"state"', 'not a JSON object'],
    ]) {
      writeFileSync(file, text);
      await expect(s.load(), text).rejects.toMatchObject({ code: 'NW_STATE', message: expect.stringContaining(field) });
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
    await expect(s.load()).rejects.toMatchObject({ message: expect.stringMatching(/wrong shape .*: move it aside and restart/) });
  });

  it('keeps the highest accepted generation, and fields it does not know', async () => {
    const { root, s } = store();
    await s.load();
    await s.update((st) => void Object.assign(st, { highestAccepted: { generation: 9, sha256: 'b'.repeat(64) }, extra: { kept: true } }));
    const reloaded = await new StateStore(createHost({ root, stateDir: '/var/lib/nodewright' })).load();
    expect(reloaded.highestAccepted).toEqual({ generation: 9, sha256: 'b'.repeat(64) });
    expect((reloaded as any).extra).toEqual({ kept: true });
  });
});
