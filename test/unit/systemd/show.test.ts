import { describe, expect, test } from 'vitest';
import { parseShowEnvironment } from '../../../systemd/show.js';
import { NwError } from '../../../host/errors.js';

describe('parseShowEnvironment', () => {
  test('the lab read-back (REPORT.md): plain and double-quoted assignments', () => {
    expect(
      parseShowEnvironment(
        'Environment=KUBELET_IMAGE_TAG=v1.6.1_coreos.0 "RKT_RUN_ARGS=--uuid-file-save=/var/run/kubelet-pod.uuid    --volume var-log,kind=host,source=/var/log"\n',
      ),
    ).toEqual({ KUBELET_IMAGE_TAG: 'v1.6.1_coreos.0', RKT_RUN_ARGS: '--uuid-file-save=/var/run/kubelet-pod.uuid    --volume var-log,kind=host,source=/var/log' });
  });
  test('without the Environment= prefix (--value), and empty', () => {
    expect(parseShowEnvironment('A=1 B=2')).toEqual({ A: '1', B: '2' });
    expect(parseShowEnvironment('Environment=\n')).toEqual({});
    expect(parseShowEnvironment('')).toEqual({});
  });
  test('C escapes and shell escapes inside quotes', () => {
    expect(parseShowEnvironment(String.raw`"A=has \"dq\" and \\\\ bs" "B=t\tn\n\$x \`c\`" "C=\001\303\251"`)).toEqual({
      A: 'has "dq" and \\\\ bs',
      B: 't\tn\n$x `c`',
      C: '\x01é',
    });
  });
  test('several properties: picks the Environment= line', () => {
    expect(parseShowEnvironment('NeedDaemonReload=no\nEnvironment=A=1\n')).toEqual({ A: '1' });
  });
  test('garbage is a coded error', () => {
    expect(() => parseShowEnvironment('Environment="A=1')).toThrow(NwError);
    expect(() => parseShowEnvironment('Environment=novalue')).toThrow(/NAME=value/);
  });
});
