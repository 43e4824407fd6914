// The store keeps each node's hypervisor and the rule that found it (schema 4): written only on
// change, each change with its event in the same transaction, fenced like every write.
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../controller/store/migrations.js';
import { openSqliteStore, type SqliteStore } from '../../../controller/store/sqlite.js';
import type { HypervisorChange, HypervisorMapping, NodeRecord } from '../../../controller/store/store.js';
import { tempDir } from '../../tmp.js';

const T0 = '2026-12-01T10:00:00.000Z';
const open: SqliteStore[] = [];
const openStore = (dir: string) => {
  const s = openSqliteStore({ stateDir: dir });
  open.push(s);
  return s;
};
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

const node = (name: string, over: Partial<NodeRecord> = {}): NodeRecord => ({
  name, group: 'workers', labels: {}, url: 'https://127.0.0.1:9443', certSha256: 'c'.repeat(64), certNotAfter: null,
  facts: { hostname: name, addresses: [] }, enrolledAt: T0, health: 'unknown', reason: null, healthSince: T0, lastSeenAt: null,
  generation: null, converged: false, ready: false, ...over,
});

const event = (c: HypervisorChange, from: HypervisorMapping | null) => ({
  at: T0, actor: 'test', kind: 'node.failure-domain', subject: c.name, message: `${from?.hypervisor ?? '-'} -> ${c.to?.hypervisor ?? '-'}`,
});

describe('node hypervisor in the store', () => {
  it('a node starts unmapped; putNode and getNode carry the mapping', async () => {
    const s = openStore(tempDir('nw-store-hv-'));
    await s.putNode(node('w1'));
    expect(await s.getNode('w1')).toMatchObject({ hypervisor: null, hypervisorRule: null });
    await s.putNode(node('w2', { hypervisor: 'cmp-a', hypervisorRule: 'instance-uuid' }));
    expect(await s.getNode('w2')).toMatchObject({ hypervisor: 'cmp-a', hypervisorRule: 'instance-uuid' });
  });

  it('setNodeHypervisors writes only changes, each with its event, and skips removed nodes', async () => {
    const s = openStore(tempDir('nw-store-hv-'));
    for (const n of ['w1', 'w2', 'w3']) await s.putNode(node(n));
    const a = { hypervisor: 'cmp-a', rule: 'instance-uuid' } as const;
    const b = { hypervisor: 'cmp-b', rule: 'instance-uuid' } as const;
    expect(await s.setNodeHypervisors([{ name: 'w1', to: a }, { name: 'w2', to: a }, { name: 'w3', to: null }, { name: 'gone', to: a }], event)).toEqual(['w1', 'w2']);
    expect((await s.listEvents()).map((e) => [e.subject, e.message])).toEqual([['w1', '- -> cmp-a'], ['w2', '- -> cmp-a']]);
    // the same again: nothing written, no event
    expect(await s.setNodeHypervisors([{ name: 'w1', to: a }, { name: 'w2', to: a }], event)).toEqual([]);
    expect(await s.listEvents()).toHaveLength(2);
    // a move, a rule change and an unmapping are changes
    expect(await s.setNodeHypervisors([{ name: 'w1', to: b }, { name: 'w2', to: { hypervisor: 'cmp-a', rule: 'name' } }], event)).toEqual(['w1', 'w2']);
    expect(await s.getNode('w1')).toMatchObject({ hypervisor: 'cmp-b', hypervisorRule: 'instance-uuid' });
    expect(await s.getNode('w2')).toMatchObject({ hypervisor: 'cmp-a', hypervisorRule: 'name' });
    expect(await s.setNodeHypervisors([{ name: 'w1', to: null }], event)).toEqual(['w1']);
    expect(await s.getNode('w1')).toMatchObject({ hypervisor: null, hypervisorRule: null });
    expect((await s.listEvents()).map((e) => e.message).slice(2)).toEqual(['cmp-a -> cmp-b', 'cmp-a -> cmp-a', 'cmp-b -> -']);
    // an event builder may say "no event": the write still happens
    expect(await s.setNodeHypervisors([{ name: 'w3', to: b }], () => null)).toEqual(['w3']);
    expect(await s.listEvents()).toHaveLength(5);
  });

  it('the mapping and its event are one transaction: a failing event writes neither', async () => {
    const s = openStore(tempDir('nw-store-hv-'));
    await s.putNode(node('w1'));
    await expect(
      s.setNodeHypervisors([{ name: 'w1', to: { hypervisor: 'cmp-a', rule: 'name' } }], () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await s.getNode('w1')).toMatchObject({ hypervisor: null });
    expect(await s.listEvents()).toEqual([]);
  });

  it('a controller that lost the epoch cannot write a mapping; removing a mapped node works', async () => {
    const dir = tempDir('nw-store-hv-');
    const old = openStore(dir);
    await old.putNode(node('w1'));
    const next = openStore(dir);
    await expect(old.setNodeHypervisors([{ name: 'w1', to: { hypervisor: 'cmp-a', rule: 'name' } }], event)).rejects.toThrow(/another controller took over/);
    await next.setNodeHypervisors([{ name: 'w1', to: { hypervisor: 'cmp-a', rule: 'name' } }], event);
    expect(await next.removeNode('w1')).toBe(true);
    expect(await next.getNode('w1')).toBeNull();
    expect(await next.listNodes()).toEqual([]);
  });

  it('migration 4 adds the columns to a version-3 database and keeps its nodes unmapped', async () => {
    const dir = tempDir('nw-store-hv-');
    const db = new Database(path.join(dir, 'controller.db'));
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)');
    for (const m of MIGRATIONS.filter((x) => x.version <= 3)) {
      for (const sql of m.statements) db.exec(sql);
      db.prepare(`INSERT INTO schema_migrations (version, name) VALUES (?, ?)`).run(m.version, m.name);
    }
    db.prepare(`INSERT INTO nodes (name, node_group, labels, url, cert_sha256, facts, enrolled_at, health, reason, health_since, last_seen_at, generation, converged, ready)
                VALUES ('w1', 'workers', '{}', 'https://127.0.0.1:9443', ?, '{"hostname":"w1","addresses":[]}', ?, 'unknown', NULL, ?, NULL, NULL, 0, 0)`).run('c'.repeat(64), T0, T0);
    db.close();
    const s = openStore(dir);
    expect(await s.getNode('w1')).toMatchObject({ name: 'w1', hypervisor: null, hypervisorRule: null });
    expect(await s.setNodeHypervisors([{ name: 'w1', to: { hypervisor: 'cmp-b', rule: 'fixed-ip' } }], event)).toEqual(['w1']);
  });
});
