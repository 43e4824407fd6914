// Differential test on generated units: hundreds of random Environment= lines (every quoting,
// escape, specifier and continuation rule) go through real systemd 252; its read-back must
// equal our model, before and after planSetEnvironment() with random values. Lines with one
// defect must be refused by us (NW_UNIT_PARSE) and silently dropped by systemd.
import { afterAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { NwError } from '../../../host/errors.js';
import { effectiveEnvironment } from '../../../systemd/environment.js';
import { parseShowEnvironment } from '../../../systemd/show.js';
import { planSetEnvironment } from '../../../systemd/edit.js';
import type { UnitSources } from '../../../systemd/sources.js';
import { brokenEnvironmentWord, envName, environmentLine, serviceWith } from '../../fixtures/units/generate.js';
import { UNIT_DIR, daemonReload, install, showMany, uninstall } from './lab.js';

const COUNT = Number(process.env.NW_DIFF_UNITS ?? (process.env.CI === 'true' ? 400 : 150));
const SEED = Number(process.env.NW_DIFF_SEED ?? Date.now() % 1_000_000);
const values = (src: UnitSources) => Object.fromEntries(Object.entries(effectiveEnvironment(src).vars).map(([k, v]) => [k, v.value]));
const dump = (s: UnitSources) => [s.main, ...s.dropIns].map((f) => `# ${f.path}\n${f.text}`).join('\n');
const at = (name: string, text: string): UnitSources => ({ main: { path: `${UNIT_DIR}/${name}`, text }, dropIns: [] });

describe(`generated units vs systemd 252 (seed ${SEED}, ${COUNT} units; rerun with NW_DIFF_SEED=${SEED})`, () => {
  const installed: string[] = [];
  /** Install the units (removed again after the suite), reload once, read them back. */
  const installAndShow = (units: { name: string; src: UnitSources }[]) => {
    for (const u of units) {
      install(u.src);
      if (!installed.includes(u.src.main.path)) installed.push(u.src.main.path);
    }
    daemonReload();
    return showMany(units.map((u) => u.name));
  };
  afterAll(() => {
    for (const p of installed) uninstall(p);
    daemonReload();
  });

  test('valid units: model == systemctl show, before and after a random planSetEnvironment', () => {
    // main unit + 0–2 drop-ins (names that sort differently by byte than by locale), some resets
    const envLines = fc.array(fc.oneof({ weight: 8, arbitrary: environmentLine }, { weight: 1, arbitrary: fc.constant('Environment=\n') }), {
      minLength: 1,
      maxLength: 4,
    });
    const dropInNames = ['50-b.conf', '10-a.conf', 'Z.conf', 'a.conf'];
    const lines = fc.sample(fc.tuple(envLines, fc.array(envLines, { maxLength: 2 })), { numRuns: COUNT, seed: SEED });
    const edits = fc.sample(
      fc.tuple(envName, fc.string({ maxLength: 30, unit: 'grapheme' }).map((s) => s.replace(/\0/g, '')), fc.boolean()),
      { numRuns: COUNT, seed: SEED + 1 },
    );
    const units = lines.map(([main, dropIns], i) => {
      const src = at(`nwgen-${i}.service`, serviceWith(main));
      src.dropIns = dropIns
        .map((d, k) => ({ path: `${src.main.path}.d/${dropInNames[(i + k) % dropInNames.length]}`, text: `[Service]\n${d.join('')}` }))
        .filter((d, k, all) => all.findIndex((x) => x.path === d.path) === k)
        .sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
      return { name: `nwgen-${i}.service`, src };
    });
    const shown = installAndShow(units);
    for (const u of units) {
      const s = shown.get(u.name)!;
      expect(s.loadState, u.src.main.text).toBe('loaded');
      expect(values(u.src), dump(u.src)).toEqual(parseShowEnvironment(s.environment));
    }
    const edited = units.map((u, i) => {
      const [fresh, value, reuse] = edits[i];
      const names = Object.keys(effectiveEnvironment(u.src).vars);
      const name = reuse && names.length ? names[0] : fresh;
      const changes = planSetEnvironment(u.src, name, value);
      const src: UnitSources = {
        main: { ...u.src.main, text: changes.find((c) => c.path === u.src.main.path)?.after ?? u.src.main.text },
        dropIns: u.src.dropIns.map((d) => ({ ...d, text: changes.find((c) => c.path === d.path)?.after ?? d.text })),
      };
      return { ...u, src, variable: name, value };
    });
    const after = installAndShow(edited);
    for (const u of edited) {
      const s = after.get(u.name)!;
      expect(s.needDaemonReload).toBe('no');
      const env = parseShowEnvironment(s.environment);
      expect(values(u.src), dump(u.src)).toEqual(env);
      expect(env[u.variable]).toBe(u.value);
    }
  });

  test('broken lines: we refuse with NW_UNIT_PARSE, systemd silently drops them', () => {
    const words = fc.sample(brokenEnvironmentWord, { numRuns: 60, seed: SEED + 2 });
    const units = words.map((w, i) => ({ name: `nwbad-${i}.service`, src: at(`nwbad-${i}.service`, serviceWith([`Environment=${w}\n`])) }));
    const shown = installAndShow(units);
    for (const u of units) {
      expect(parseShowEnvironment(shown.get(u.name)!.environment), u.src.main.text).toEqual({});
      let err: unknown;
      try {
        effectiveEnvironment(u.src);
      } catch (e) {
        err = e;
      }
      expect(err, u.src.main.text).toBeInstanceOf(NwError);
      expect((err as NwError).code).toBe('NW_UNIT_PARSE');
      expect((err as NwError).message).toMatch(new RegExp(`^${UNIT_DIR}/${u.name}:\\d+:\\d+: `));
    }
  });
});
