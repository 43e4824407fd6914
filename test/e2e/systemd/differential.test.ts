// The proof that our unit model agrees with systemd: every fixture is installed in a real
// systemd 252 (nspawn lab), daemon-reloaded, and `systemctl show -p Environment` must equal
// effectiveEnvironment() — before and after planUnitBindMount() — with NeedDaemonReload=no.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { effectiveEnvironment } from '../../../systemd/environment.js';
import { parseShowEnvironment } from '../../../systemd/show.js';
import { planSetEnvironment } from '../../../systemd/edit.js';
import type { UnitSources } from '../../../systemd/sources.js';
import type { UnitChange } from '../../../systemd/edit.js';
import { ensureBindMount } from '../../../rkt/args.js';
import { planUnitBindMount } from '../../../rkt/unit-bind-mount.js';
import { BROKEN_FIXTURES, CEPH_KEYRING, fixture, fixtureNames } from '../../fixtures/units/index.js';
import { UNIT_DIR, daemonReload, install, show, uninstall } from './lab.js';

const modelValues = (src: UnitSources) =>
  Object.fromEntries(Object.entries(effectiveEnvironment(src).vars).map(([k, v]) => [k, v.value]));

const applied = (src: UnitSources, changes: UnitChange[]): UnitSources => {
  const after = (s: { path: string; text: string }) => ({ path: s.path, text: changes.find((c) => c.path === s.path)?.after ?? s.text });
  return { main: after(src.main), dropIns: src.dropIns.map(after) };
};

const all = fixtureNames();
const parseable = all.filter((f) => !BROKEN_FIXTURES.has(f));
const units = new Map(all.map((f) => [f, { unit: `nwfx-${f}`, src: fixture(f).at(UNIT_DIR, `nwfx-${f}`) }]));

describe('effective environment: model == systemd 252', () => {
  beforeAll(() => {
    for (const { src } of units.values()) install(src);
    daemonReload();
  });
  afterAll(() => {
    for (const { src } of units.values()) uninstall(src.main.path);
    daemonReload();
  });

  test.each(parseable)('%s as written', (f) => {
    const { unit, src } = units.get(f)!;
    const s = show(unit);
    expect(s.loadState).toBe('loaded');
    expect(s.needDaemonReload).toBe('no');
    expect(modelValues(src)).toEqual(parseShowEnvironment(s.environment));
  });

  test('the seed kubelet.service: systemd silently drops RKT_RUN_ARGS, we refuse with file:line:col', () => {
    const { unit, src } = units.get('seed-kubelet.service')!;
    const env = parseShowEnvironment(show(unit).environment);
    expect(env).toEqual({ KUBELET_IMAGE_TAG: 'v1.7.10' }); // RKT_RUN_ARGS is gone, no error anywhere
    expect(() => effectiveEnvironment(src)).toThrow(/NW_UNIT_PARSE|nwfx-seed-kubelet\.service:9:13/);
    try {
      effectiveEnvironment(src);
    } catch (e) {
      expect((e as { code: string }).code).toBe('NW_UNIT_PARSE');
      expect((e as Error).message).toMatch(/^\/etc\/systemd\/system\/nwfx-seed-kubelet\.service:9:13: /);
    }
  });

  test.each(parseable)('%s after adding the ceph-keyring bind mount', (f) => {
    const { unit, src } = units.get(f)!;
    const plan = planUnitBindMount(src, CEPH_KEYRING);
    const next = applied(src, plan.changes);
    install(next);
    daemonReload();
    const s = show(unit);
    expect(s.needDaemonReload).toBe('no');
    const env = parseShowEnvironment(s.environment);
    expect(modelValues(next)).toEqual(env);
    expect(env[plan.variable]).toBe(plan.value);
    // systemd's value already holds the pair: ensuring it again changes nothing.
    expect(ensureBindMount(env[plan.variable], CEPH_KEYRING).changed).toBe(false);
    install(src);
    daemonReload();
  });

  test('values with every special character survive planSetEnvironment through systemd', () => {
    const { unit, src } = units.get('quoting.service')!;
    const tricky = {
      DQ: 'has "double" and \'single\' quotes',
      SQ: 'back\\slash \\n not a newline',
      MID: 'tab\there\nnewline and 100% and %n literal',
      ESC: '  leading and trailing blanks  ',
      NEW_ONE: 'ünïcødé 😀 $HOME `cmd` ;#',
    };
    let cur = src;
    for (const [k, v] of Object.entries(tricky)) cur = applied(cur, planSetEnvironment(cur, k, v));
    install(cur);
    daemonReload();
    const s = show(unit);
    expect(s.needDaemonReload).toBe('no');
    const env = parseShowEnvironment(s.environment);
    expect(modelValues(cur)).toEqual(env);
    for (const [k, v] of Object.entries(tricky)) expect(env[k]).toBe(v);
    install(src);
    daemonReload();
  });
});
