import { describe, expect, test } from 'vitest';
import { parseUnit, printUnit, scanUnit, unitNameOf } from '../../../systemd/unit.js';
import { fixture, fixtureNames, BROKEN_FIXTURES } from '../../fixtures/units/index.js';

const P = '/etc/systemd/system/kubelet.service';

describe('parseUnit / printUnit', () => {
  test.each(fixtureNames().filter((f) => !BROKEN_FIXTURES.has(f)))('%s prints back byte-identical', (f) => {
    const src = fixture(f).at('/etc/systemd/system');
    for (const s of [src.main, ...src.dropIns]) expect(printUnit(parseUnit(s.text, s.path))).toBe(s.text);
  });

  test('logical lines: sections, comments, blanks, continued assignments with their line span', () => {
    const text = '\ufeff# head\n[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/a \\\n  --b \\\n# skipped\n  --c\nRestart=always';
    const u = parseUnit(text, P);
    expect(printUnit(u)).toBe(text);
    expect(u.lines.map((l) => [l.kind, l.line, l.endLine, l.section, l.key ?? null])).toEqual([
      ['comment', 1, 1, '', null],
      ['section', 2, 2, 'Unit', null],
      ['assignment', 3, 3, 'Unit', 'Description'],
      ['blank', 4, 4, 'Unit', null],
      ['section', 5, 5, 'Service', null],
      ['assignment', 6, 9, 'Service', 'ExecStart'],
      ['assignment', 10, 10, 'Service', 'Restart'],
    ]);
    const exec = u.lines[5];
    expect(exec.value).toBe('/bin/a    --b    --c');
    // every character of the value maps back to its byte (the continuation space to its backslash)
    expect(exec.valueMap!.map((o) => text[o]).join('')).toBe('/bin/a \\  --b \\  --c');
  });

  test('the unit name of a drop-in is its directory minus .d; Environment= lives in the type\'s section', () => {
    expect(unitNameOf('/etc/systemd/system/kubelet.service.d/50-x.conf')).toBe('kubelet.service');
    expect(parseUnit('[Socket]\nEnvironment=A=1\n', '/x/a.socket').lines[1].env).toHaveLength(1);
    expect(parseUnit('[Service]\nEnvironment=A=1\n', '/x/a.socket').lines[1].env).toBeUndefined();
  });

  test('the seed kubelet.service is NW_UNIT_PARSE at the unclosed quote, naming the swallowed ExecStartPre', () => {
    const s = fixture('seed-kubelet.service').at('/etc/systemd/system', 'kubelet.service').main;
    expect(() => parseUnit(s.text, s.path)).toThrow(
      /^\/etc\/systemd\/system\/kubelet\.service:9:13: Environment= the double quote opened here is never closed; systemd would silently ignore this whole line \(its \\ continuation runs from line 9 to line 16, swallowing line 16 "ExecStartPre=\/usr\/bin\/mkdir -p \/etc\/ceph"\): add the closing quote/,
    );
    // lenient scan (for lint) still gives a lossless model
    const { unit, problems } = scanUnit(s.text, s.path);
    expect(printUnit(unit)).toBe(s.text);
    expect(problems).toHaveLength(1);
  });
});
