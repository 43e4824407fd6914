import { describe, expect, test } from 'vitest';
import { lintUnit } from '../../../systemd/lint.js';
import { fixture } from '../../fixtures/units/index.js';

const lint = (f: string) => lintUnit(fixture(f).at('/etc/systemd/system').main);

describe('lintUnit', () => {
  test('ExecStart= … \\ swallowing Restart=always (the real-world kubelet bug)', () => {
    expect(lint('swallowed-restart.service')).toEqual([
      {
        path: '/etc/systemd/system/swallowed-restart.service',
        line: 6,
        message: expect.stringMatching(/^"Restart=always" is swallowed by the \\ continuation of ExecStart= on line 3; .*remove the trailing \\ on line 5/),
      },
    ]);
  });
  test('the seed unit: unbalanced quote and the swallowed ExecStartPre, with lines', () => {
    const w = lint('seed-kubelet.service');
    expect(w.map((x) => x.line)).toEqual([9, 16]);
    expect(w[0].message).toMatch(/column 13: Environment= the double quote opened here is never closed/);
    expect(w[1].message).toMatch(/"ExecStartPre=\/usr\/bin\/mkdir -p \/etc\/ceph" is swallowed/);
  });
  test('a backslash followed by blanks is not a continuation', () => {
    const w = lintUnit({ path: '/u.service', text: '[Service]\nExecStart=/bin/a \\ \n  --b\n' });
    expect(w.map((x) => x.line)).toEqual([2, 3]);
    expect(w[0].message).toMatch(/trailing blanks/);
  });
  test('clean units give no warnings', () => {
    for (const f of ['lab-kubelet.service', 'seed-kubelet-closed.service', 'quoting.service', 'rkt-opts.service']) expect(lint(f)).toEqual([]);
  });
});
