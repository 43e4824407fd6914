// R1's systemctl stand-in calls this at `daemon-reload`: the kubelet unit's effective
// Environment= as `systemctl show -p Environment` prints it (systemd's shell_maybe_quote), from
// the unit files under the sandbox root, so the agent's read-back has something real to check.
//   node dist/bench/r1-environment.js <root> <unit path>
import { pathToFileURL } from 'node:url';
import { createHost } from '../host/index.js';
import { loadUnitSources } from '../systemd/sources.js';
import { effectiveEnvironment } from '../systemd/environment.js';

const SAFE = /^[A-Za-z0-9_.,:/=@%+-]*$/;

/** One assignment as systemd shows it: bare when safe, else "…" with \" \\ \` \$ and C escapes. */
export function showQuote(s: string): string {
  if (SAFE.test(s)) return s;
  let out = '"';
  for (const ch of s) {
    if (ch === '"' || ch === '\\' || ch === '`' || ch === '$') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f) out += '\\' + ch.charCodeAt(0).toString(8).padStart(3, '0');
    else out += ch;
  }
  return out + '"';
}

export async function showEnvironment(root: string, unitPath: string): Promise<string> {
  const src = await loadUnitSources(createHost({ root }).fs, unitPath);
  return Object.entries(effectiveEnvironment(src).vars)
    .map(([k, v]) => showQuote(`${k}=${v.value}`))
    .join(' ');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write((await showEnvironment(process.argv[2], process.argv[3])) + '\n');
}
