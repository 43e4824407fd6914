// Property tests (fast-check; NW_PROPERTY_RUNS, ≥10k when CI=true).
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { parseUnit, printUnit } from '../../../systemd/unit.js';
import { effectiveEnvironment } from '../../../systemd/environment.js';
import { planSetEnvironment } from '../../../systemd/edit.js';
import { environmentLine, envName, numRuns, serviceWith, unitText } from '../../fixtures/units/generate.js';

const P = '/etc/systemd/system/gen.service';
const src = (text: string) => ({ main: { path: P, text }, dropIns: [] });

describe('unit model properties', () => {
  test('print(parse(x)) === x for generated unit texts', () => {
    fc.assert(
      fc.property(unitText, (t) => {
        expect(printUnit(parseUnit(t, P))).toBe(t);
      }),
      { numRuns: numRuns() },
    );
  });

  test('generated Environment= lines are valid and keep their bytes', () => {
    fc.assert(
      fc.property(fc.array(environmentLine, { minLength: 1, maxLength: 4 }), (lines) => {
        const t = serviceWith(lines);
        expect(printUnit(parseUnit(t, P))).toBe(t);
        effectiveEnvironment(src(t));
      }),
      { numRuns: numRuns() },
    );
  });

  test('planSetEnvironment on whole generated units (any sections, a trailing continuation) reaches the value', () => {
    const tail = fc.constantFrom('', 'X-Tail=a \\\n', 'X-Tail=a \\', '# c \\\n');
    fc.assert(
      fc.property(unitText, tail, envName, fc.string({ maxLength: 20 }).map((x) => x.replace(/\0/g, '')), (t0, t1, name, v) => {
        const t = t0.endsWith('\n') || t0 === '' ? t0 + t1 : t0 + '\n' + t1;
        const changes = planSetEnvironment(src(t), name, v);
        const text = changes.length ? changes[0].after : t;
        expect(effectiveEnvironment(src(text)).vars[name]?.value).toBe(v);
        expect(planSetEnvironment(src(text), name, v)).toEqual([]);
      }),
      { numRuns: numRuns(1000) },
    );
  });

  test('planSetEnvironment gives exactly the value, touches only the winning line, keeps every other variable', () => {
    const value = fc.string({ maxLength: 40, unit: 'grapheme' }).map((s) => s.replace(/\0/g, ''));
    fc.assert(
      fc.property(fc.array(environmentLine, { minLength: 1, maxLength: 4 }), envName, value, fc.boolean(), (lines, fresh, v, reuse) => {
        const t = serviceWith(lines);
        const before = effectiveEnvironment(src(t)).vars;
        const names = Object.keys(before);
        const name = reuse && names.length ? names[names.length - 1] : fresh;
        const changes = planSetEnvironment(src(t), name, v);
        if (before[name]?.value === v && !before[name]?.unresolved) {
          expect(changes).toEqual([]);
          return;
        }
        expect(changes).toHaveLength(1);
        const after = effectiveEnvironment(src(changes[0].after)).vars;
        expect(after[name].value).toBe(v);
        for (const [k, e] of Object.entries(before)) if (k !== name) expect(after[k].value).toBe(e.value);
        expect(Object.keys(after).sort()).toEqual([...new Set([...names, name])].sort());
        // bytes outside the winning logical line are untouched
        const u = parseUnit(t, P);
        const line = before[name] ? u.lines.find((l) => l.line === before[name].line)! : null;
        if (line) {
          expect(changes[0].after.startsWith(t.slice(0, line.offset))).toBe(true);
          expect(changes[0].after.endsWith(t.slice(line.offset + line.raw.length))).toBe(true);
        }
        // and planning again is a no-op
        expect(planSetEnvironment(src(changes[0].after), name, v)).toEqual([]);
      }),
      { numRuns: numRuns(1000) },
    );
  });
});
