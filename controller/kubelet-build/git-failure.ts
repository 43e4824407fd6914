// What a failed git command says went wrong. git prints informational lines before its error
// ("Preparing worktree (detached HEAD 5ca598b4ba)" then "error: unable to read sha1 file of …",
// "fatal: Could not reset index file to revision 'HEAD'."): the operator needs the error lines.
const ERROR = /^(?:fatal|error):/;
const MAX_CHARS = 400;

/** The error: and fatal: lines of git's output (the first error, how many more, the fatal one); its first line when it has none. */
export function gitFailure(stderr: string, stdout = ''): string {
  const lines = `${stderr}\n${stdout}`.split('\n').map((l) => l.trim()).filter(Boolean);
  if (!lines.length) return 'git printed nothing';
  const errors = lines.filter((l) => ERROR.test(l));
  if (!errors.length) return clip(lines[0]);
  const fatal = errors.filter((l) => l.startsWith('fatal:'));
  const others = errors.filter((l) => !l.startsWith('fatal:'));
  const shown = [...others.slice(0, 1), ...fatal.slice(-1)];
  const hidden = errors.length - shown.length;
  return clip(shown.join('; ') + (hidden ? ` (and ${hidden} more error line${hidden === 1 ? '' : 's'})` : ''));
}

const clip = (s: string) => (s.length > MAX_CHARS ? `${s.slice(0, MAX_CHARS - 1)}…` : s);
