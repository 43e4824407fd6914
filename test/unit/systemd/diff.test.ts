import { describe, expect, test } from 'vitest';
import { unifiedDiff } from '../../../systemd/diff.js';

describe('unifiedDiff', () => {
  test('empty when equal', () => {
    expect(unifiedDiff('/a', 'x\n', 'x\n')).toBe('');
  });
  test('one hunk with 3 lines of context, removals before additions', () => {
    const a = 'l1\nl2\nl3\nl4\nl5\nl6\nl7\n';
    const b = 'l1\nl2\nl3\nl4 changed\nl5\nl6\nl7\nl8\n';
    expect(unifiedDiff('/u', a, b)).toBe('--- /u\n+++ /u\n@@ -1,7 +1,8 @@\n l1\n l2\n l3\n-l4\n+l4 changed\n l5\n l6\n l7\n+l8\n');
  });
  test('separate hunks far apart, and a missing final newline is marked', () => {
    const a = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n');
    const b = a.replace('l1\n', 'L1\n').replace('l19', 'L19');
    const d = unifiedDiff('/u', a, b);
    expect(d.match(/^@@/gm)).toHaveLength(2);
    expect(d).toContain('\\ No newline at end of file');
  });
});
