// A unified patch as the operator knows it: which files, which hunks. Used to name the hunk
// `git apply --check` rejected ("error: patch failed: FILE:LINE" gives the hunk's old start).
import { NwError } from '../../host/errors.js';

export interface Hunk {
  /** 1-based position among the hunks of its file. */
  index: number;
  oldStart: number;
  /** The `@@ … @@ func …` line, as written. */
  header: string;
}

export interface PatchFile {
  path: string;
  hunks: Hunk[];
}

const HUNK = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@/;

/** The files and hunks of a unified (git) patch; NW_USAGE when it holds none. */
export function parsePatch(text: string, name: string): PatchFile[] {
  const files: PatchFile[] = [];
  let current: PatchFile | null = null;
  for (const line of text.split('\n')) {
    const plus = /^\+\+\+ (?:b\/)?(.+?)\s*$/.exec(line);
    if (plus && plus[1] !== '/dev/null') {
      current = { path: plus[1], hunks: [] };
      files.push(current);
      continue;
    }
    const h = HUNK.exec(line);
    if (h && current) current.hunks.push({ index: current.hunks.length + 1, oldStart: Number(h[1]), header: line });
  }
  if (!files.some((f) => f.hunks.length)) throw new NwError('NW_USAGE', `${name} is not a unified patch (no \`+++ b/FILE\` and \`@@\` hunks); give the file from patches/`);
  return files;
}

/** What `git apply --check` refused, named by file and hunk. */
export function explainRejectedPatch(stderr: string, files: PatchFile[], patchName: string, ref: string): string {
  const failed = /error: patch failed: (.+):(\d+)/.exec(stderr);
  if (failed) {
    const file = files.find((f) => f.path === failed[1]);
    const hunk = file?.hunks.find((h) => h.oldStart === Number(failed[2]));
    const which = hunk ? `hunk #${hunk.index} of ${failed[1]} (${hunk.header})` : `the hunk at ${failed[1]}:${failed[2]}`;
    return `${patchName}: ${which} does not apply to ${ref}: its context lines are not in that file; the patch is for a different Kubernetes version (check --ref) or the file was changed`;
  }
  const missing = /error: (.+): No such file or directory/.exec(stderr) ?? /error: (.+): does not exist in index/.exec(stderr);
  if (missing) return `${patchName}: ${missing[1]} does not exist at ${ref}; the patch is for another tree (check --src and --ref)`;
  return `${patchName} does not apply to ${ref}: ${stderr.trim().split('\n').slice(0, 5).join('; ') || 'git apply --check failed'}`;
}
