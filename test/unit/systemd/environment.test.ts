// Every quoting and continuation rule of Environment= (systemd 252), one test each.
import { describe, expect, test } from 'vitest';
import { effectiveEnvironment } from '../../../systemd/environment.js';
import { NwError } from '../../../host/errors.js';

const P = '/etc/systemd/system/kubelet.service';
const env = (body: string, dropIns: { name: string; text: string }[] = []) =>
  Object.fromEntries(
    Object.entries(
      effectiveEnvironment({ main: { path: P, text: `[Service]\n${body}` }, dropIns: dropIns.map((d) => ({ path: `${P}.d/${d.name}`, text: d.text })) }).vars,
    ).map(([k, v]) => [k, v.value]),
  );
const parseErr = (body: string): NwError => {
  try {
    env(body);
  } catch (e) {
    expect(e).toBeInstanceOf(NwError);
    expect((e as NwError).code).toBe('NW_UNIT_PARSE');
    return e as NwError;
  }
  throw new Error('expected NW_UNIT_PARSE');
};

describe('Environment= words', () => {
  test('several assignments on one line, split on blanks', () => {
    expect(env('Environment=A=1 B=2\tC=3\n')).toEqual({ A: '1', B: '2', C: '3' });
  });
  test('double quotes around the whole assignment', () => {
    expect(env('Environment="A=has spaces"\n')).toEqual({ A: 'has spaces' });
  });
  test('single quotes', () => {
    expect(env("Environment='A=single quoted'\n")).toEqual({ A: 'single quoted' });
  });
  test('quotes may open and close mid-word', () => {
    expect(env(`Environment=A=x"y z"w'1 2'\n`)).toEqual({ A: 'xy zw1 2' });
  });
  test('C escapes, also inside single quotes', () => {
    expect(env(String.raw`Environment="A=t\tn\nbs\\dq\"sq\'s\sx\x41o\101u\u00e9U\U0001F600a\av\v"` + '\n')).toEqual({
      A: 't\tn\nbs\\dq"sq\'s xAoAuéU😀a\x07v\v',
    });
    expect(env(String.raw`Environment='A=\'q\' \\ \t'` + '\n')).toEqual({ A: "'q' \\ \t" });
  });
  test('escapes outside quotes', () => {
    expect(env(String.raw`Environment=A=a\sb\x20c` + '\n')).toEqual({ A: 'a b c' });
  });
  test('%% is a literal %, %n/%N/%p/%i/%f are the unit name specifiers', () => {
    expect(env('Environment=A=100%% N=%n B=%N C=%p I=%i F=%f\n')).toEqual({ A: '100%', N: 'kubelet.service', B: 'kubelet', C: 'kubelet', I: '', F: '/kubelet' });
  });
  test('escapes are resolved before specifiers (\\x25\\x25 is %%)', () => {
    expect(env(String.raw`Environment=A=\x25\x25n` + '\n')).toEqual({ A: '%n' });
  });
  test('host-dependent specifiers stay as written and are marked unresolved', () => {
    const r = effectiveEnvironment({ main: { path: P, text: '[Service]\nEnvironment=H=%H\n' }, dropIns: [] });
    expect(r.vars.H).toMatchObject({ value: '%H', unresolved: ['%H'] });
  });
  test('a later assignment overrides an earlier one (same line and later lines)', () => {
    expect(env('Environment=A=1 A=2\nEnvironment=B=1\nEnvironment=B=3\n')).toEqual({ A: '2', B: '3' });
  });
  test('an empty Environment= clears everything before it', () => {
    expect(env('Environment=A=1 B=2\nEnvironment=\nEnvironment=C=3\n')).toEqual({ C: '3' });
  });
  test('empty values are kept', () => {
    expect(env('Environment=A= "B="\n')).toEqual({ A: '', B: '' });
  });
  test('blanks around key, = and value are stripped', () => {
    expect(env('  Environment  =   A=1   \n')).toEqual({ A: '1' });
  });
  test('Environment= outside [Service] is not the service environment', () => {
    expect(effectiveEnvironment({ main: { path: P, text: '[Unit]\nEnvironment=A=1\n[Service]\nEnvironment=B=2\n' }, dropIns: [] }).vars).toHaveProperty('B');
    expect(effectiveEnvironment({ main: { path: P, text: '[Unit]\nEnvironment=A=1\n' }, dropIns: [] }).vars).toEqual({});
  });
  test('EnvironmentFile= is reported with its optional "-"', () => {
    expect(effectiveEnvironment({ main: { path: P, text: '[Service]\nEnvironmentFile=/etc/a\nEnvironmentFile=-/etc/b\n' }, dropIns: [] }).environmentFiles).toEqual([
      { path: '/etc/a', optional: false },
      { path: '/etc/b', optional: true },
    ]);
  });
});

describe('continuations', () => {
  test('\\-newline becomes one space and the next line keeps its indentation', () => {
    expect(env('Environment="A=x \\\n    y"\n')).toEqual({ A: 'x      y' });
  });
  test('outside quotes a continuation separates words', () => {
    expect(env('Environment=A=1 \\\n  B=2\n')).toEqual({ A: '1', B: '2' });
  });
  test('a value that starts with \\-newline', () => {
    expect(env('Environment=\\\n  A=1\nEnvironment="B=\\\n  --volume x"\n')).toEqual({ A: '1', B: '   --volume x' });
  });
  test('comment lines inside a continuation are skipped', () => {
    expect(env('Environment="A=one \\\n# not part of it\n; nor this\n  two"\n')).toEqual({ A: 'one    two' });
  });
  test('an empty line ends a continuation', () => {
    expect(env('Environment=A=1 \\\n\nEnvironment=B=2\n')).toEqual({ A: '1', B: '2' });
  });
  test('an even number of trailing backslashes is not a continuation', () => {
    expect(env('Environment=A=x\\\\\nEnvironment=B=2\n')).toEqual({ A: 'x\\', B: '2' });
  });
  test('a continuation at the end of the file ends the value', () => {
    expect(env('Environment=A=1 \\')).toEqual({ A: '1' });
  });
  test('a comment line ending in \\ does not continue', () => {
    expect(env('# comment \\\nEnvironment=A=1\n')).toEqual({ A: '1' });
  });
});

describe('drop-ins', () => {
  test('applied in lexical order after the main unit; the last one wins', () => {
    expect(
      env('Environment=A=main B=main\n', [
        { name: '10-a.conf', text: '[Service]\nEnvironment=A=10\n' },
        { name: '50-b.conf', text: '[Service]\nEnvironment=A=50 C=50\n' },
      ]),
    ).toEqual({ A: '50', B: 'main', C: '50' });
  });
  test('the winning entry names the drop-in and its line', () => {
    const r = effectiveEnvironment({
      main: { path: P, text: '[Service]\nEnvironment=A=1\n' },
      dropIns: [{ path: `${P}.d/x.conf`, text: '# c\n[Service]\nEnvironment=A=2\n' }],
    });
    expect(r.vars.A).toEqual({ value: '2', path: `${P}.d/x.conf`, line: 3 });
  });
  test('an empty Environment= in a drop-in clears the main unit', () => {
    expect(env('Environment=A=1\n', [{ name: 'x.conf', text: '[Service]\nEnvironment=\nEnvironment=B=2\n' }])).toEqual({ B: '2' });
  });
});

describe('what systemd silently drops is NW_UNIT_PARSE with file:line:col', () => {
  test('unclosed double quote, pointing at the quote', () => {
    expect(parseErr('Environment=A=1 "B=x \\\n  y\nRestart=always\n').message).toMatch(
      /^\/etc\/systemd\/system\/kubelet\.service:2:17: Environment= the double quote opened here is never closed/,
    );
  });
  test('unclosed single quote', () => {
    expect(parseErr("Environment='A=x\n").message).toMatch(/:2:13: .*single quote/);
  });
  test('unknown escape', () => {
    expect(parseErr('Environment=A=x\\d\n').message).toMatch(/:2:16: .*\\d is not an escape/);
  });
  test('backslash-blank is not an escape (and not a continuation)', () => {
    expect(parseErr('Environment="A=x\\ "\n').message).toMatch(/:2:17: .*<space>/);
  });
  test('escaped NUL', () => {
    expect(parseErr('Environment=A=\\x00\n').message).toMatch(/:2:15: /);
  });
  test('invalid name, and no =', () => {
    expect(parseErr('Environment=1A=x\n').message).toMatch(/:2:13: .*not a NAME=value/);
    expect(parseErr('Environment=JUSTWORD\n').message).toMatch(/:2:13: .*not a NAME=value/);
  });
  test('unknown specifier', () => {
    expect(parseErr('Environment=A=%z\n').message).toMatch(/:2:15: %z is not a specifier/);
  });
  test('invalid UTF-8 from escapes', () => {
    expect(parseErr('Environment=A=\\xff\n').message).toMatch(/UTF-8/);
  });
  test('line without = and section header without ]', () => {
    expect(parseErr('Restart\n').message).toMatch(/:2:1: no "="/);
    expect(parseErr('[Install\n').message).toMatch(/:2:1: section header/);
  });
  test('CRLF line endings', () => {
    expect(parseErr('Environment=A=1\r\n').message).toMatch(/carriage return/);
  });
});
