import { describe, expect, test } from 'vitest';
import { parseEnvironmentFile } from '../../../systemd/environment-file.js';

const vars = (t: string) => parseEnvironmentFile(t).vars;

describe('parseEnvironmentFile (systemd load_env_file)', () => {
  test('plain values, blanks around = and at the end are dropped, comments and blank lines skipped', () => {
    expect(vars('# c\n; c\n\nA=1\n  B = two words  \nC=\n')).toEqual({ A: '1', B: 'two words', C: '' });
  });
  test('single quotes are literal, double quotes unescape only \\" \\\\ \\` \\$', () => {
    expect(vars(`A='x \\n "y"'\nB="a \\"q\\" \\\\ \\$ \\\` \\n"\n`)).toEqual({ A: 'x \\n "y"', B: 'a "q" \\ $ ` \\n' });
  });
  test('unquoted backslash escapes the next char; backslash-newline joins lines', () => {
    expect(vars('A=a\\ b\\\\c\nB=one\\\ntwo\nC="x\\\ny"\n')).toEqual({ A: 'a b\\c', B: 'onetwo', C: 'xy' });
  });
  test('quoted and unquoted parts concatenate; the last assignment wins; invalid names are ignored', () => {
    expect(parseEnvironmentFile('A="x" \'y\'z\nA=2\n9A=3\nNOEQUALS\n')).toEqual({ vars: { A: '2' }, ignored: ['9A=3'] });
  });
  test('a comment ending in a backslash swallows the next line', () => {
    expect(vars('# c \\\nA=1\nB=2')).toEqual({ B: '2' });
  });
});
