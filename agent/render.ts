// Printable plans. Keyring secrets never leave the process: `key = …` lines are masked.
export const redactSecrets = (text: string) => text.replace(/^(\s*key\s*=\s*).+$/gim, '$1<redacted>');

/** A small line diff (changed block, no context trimming): enough for files of a few lines. */
export function lineDiff(path: string, before: string | null, after: string, secret = false): string {
  const b = before === null ? [] : (secret ? redactSecrets(before) : before).split('\n');
  const a = (secret ? redactSecrets(after) : after).split('\n');
  let head = 0;
  while (head < b.length && head < a.length && b[head] === a[head]) head++;
  let tail = 0;
  while (tail < b.length - head && tail < a.length - head && b[b.length - 1 - tail] === a[a.length - 1 - tail]) tail++;
  const out = [`--- ${before === null ? '/dev/null' : path}`, `+++ ${path}`];
  for (const l of b.slice(head, b.length - tail)) out.push(`-${l}`);
  for (const l of a.slice(head, a.length - tail)) out.push(`+${l}`);
  if (out.length === 2) out.push(' (content unchanged)');
  return out.join('\n');
}
