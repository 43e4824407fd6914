// A unified diff (3 lines of context) between two versions of a text file; '' when equal.

export function unifiedDiff(path: string, before: string, after: string, context = 3): string {
  if (before === after) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = diffLines(a, b);
  const hunks: string[] = [];
  // Group ops into hunks separated by more than 2*context equal lines.
  let i = 0;
  while (i < ops.length) {
    while (i < ops.length && ops[i].op === ' ') i++;
    if (i >= ops.length) break;
    let start = Math.max(0, i - context);
    let end = i;
    let lastChange = i;
    while (end < ops.length) {
      if (ops[end].op !== ' ') lastChange = end;
      else if (end - lastChange > 2 * context) break;
      end++;
    }
    end = Math.min(ops.length, lastChange + context + 1);
    const slice = ops.slice(start, end);
    const aStart = slice[0].ai;
    const bStart = slice[0].bi;
    const aLen = slice.filter((o) => o.op !== '+').length;
    const bLen = slice.filter((o) => o.op !== '-').length;
    const range = (s: number, n: number) => (n === 0 ? `${s},0` : n === 1 ? `${s + 1}` : `${s + 1},${n}`);
    let h = `@@ -${range(aStart, aLen)} +${range(bStart, bLen)} @@\n`;
    for (const o of slice) {
      h += o.op + o.text.replace(/\n$/, '') + '\n';
      if (!o.text.endsWith('\n')) h += '\\ No newline at end of file\n';
    }
    hunks.push(h);
    i = end;
    start = end;
  }
  return `--- ${path}\n+++ ${path}\n${hunks.join('')}`;
}

function splitLines(s: string): string[] {
  return s.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

interface Op {
  op: ' ' | '-' | '+';
  text: string;
  ai: number;
  bi: number;
}

/** LCS over lines after trimming the common head and tail (unit files are small). */
function diffLines(a: string[], b: string[]): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const A = a.slice(pre, a.length - suf);
  const B = b.slice(pre, b.length - suf);
  const n = A.length;
  const m = B.length;
  const L: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let x = n - 1; x >= 0; x--) {
    for (let y = m - 1; y >= 0; y--) L[x][y] = A[x] === B[y] ? L[x + 1][y + 1] + 1 : Math.max(L[x + 1][y], L[x][y + 1]);
  }
  const ops: Op[] = [];
  for (let k = 0; k < pre; k++) ops.push({ op: ' ', text: a[k], ai: k, bi: k });
  let x = 0;
  let y = 0;
  while (x < n || y < m) {
    if (x < n && y < m && A[x] === B[y]) {
      ops.push({ op: ' ', text: A[x], ai: pre + x, bi: pre + y });
      x++;
      y++;
    } else if (x < n && (y >= m || L[x + 1][y] >= L[x][y + 1])) {
      ops.push({ op: '-', text: A[x], ai: pre + x, bi: pre + y });
      x++;
    } else {
      ops.push({ op: '+', text: B[y], ai: pre + x, bi: pre + y });
      y++;
    }
  }
  for (let k = 0; k < suf; k++) ops.push({ op: ' ', text: a[a.length - suf + k], ai: a.length - suf + k, bi: b.length - suf + k });
  return ops;
}
