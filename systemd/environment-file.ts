// EnvironmentFile= contents, read the way systemd 252's load_env_file() reads them (a shell-like
// KEY=value per line: # and ; comments, '…' literal, "…" with \" \\ \` \$ unescaped and other
// backslashes kept, unquoted \x is x and \-newline is dropped, trailing blanks chomped), then
// cleaned like strv_env_clean(): invalid names dropped, the last assignment of a name wins.
// Variables from these files override Environment= when the service starts.
import path from 'node:path';
import type { RootedFs } from '../host/fs.js';
import { ENV_NAME_RE } from './environment-syntax.js';
import type { EnvironmentFileRef } from './environment.js';

const WS = ' \t\n\r';
const NL = '\n\r';
const NEED_ESCAPE = '"\\`$';

type State = 'preKey' | 'key' | 'preValue' | 'value' | 'valueEscape' | 'sq' | 'dq' | 'dqEscape' | 'comment' | 'commentEscape';

export interface EnvironmentFileResult {
  vars: Record<string, string>;
  /** Assignments systemd ignores (invalid names). */
  ignored: string[];
}

export function parseEnvironmentFile(text: string): EnvironmentFileResult {
  const pairs: [string, string][] = [];
  let state: State = 'preKey';
  let key = '';
  let value = '';
  let keyWs = -1; // index where trailing key whitespace starts, -1 = none
  let valueWs = -1;
  const push = () => {
    const k = keyWs >= 0 ? key.slice(0, keyWs) : key;
    pairs.push([k, value]);
    key = '';
    value = '';
    keyWs = -1;
    valueWs = -1;
  };
  for (const c of text) {
    switch (state) {
      case 'preKey':
        if (c === '#' || c === ';') state = 'comment';
        else if (!WS.includes(c)) {
          state = 'key';
          keyWs = -1;
          key = c;
        }
        break;
      case 'key':
        if (NL.includes(c)) {
          state = 'preKey';
          key = '';
        } else if (c === '=') {
          state = 'preValue';
          valueWs = -1;
        } else {
          if (!WS.includes(c)) keyWs = -1;
          else if (keyWs < 0) keyWs = key.length;
          key += c;
        }
        break;
      case 'preValue':
        if (NL.includes(c)) {
          state = 'preKey';
          push();
        } else if (c === "'") state = 'sq';
        else if (c === '"') state = 'dq';
        else if (c === '\\') state = 'valueEscape';
        else if (!WS.includes(c)) {
          state = 'value';
          value += c;
        }
        break;
      case 'value':
        if (NL.includes(c)) {
          state = 'preKey';
          if (valueWs >= 0) value = value.slice(0, valueWs);
          push();
        } else if (c === '\\') {
          state = 'valueEscape';
          valueWs = -1;
        } else {
          if (!WS.includes(c)) valueWs = -1;
          else if (valueWs < 0) valueWs = value.length;
          value += c;
        }
        break;
      case 'valueEscape':
        state = 'value';
        if (!NL.includes(c)) value += c;
        break;
      case 'sq':
        if (c === "'") state = 'preValue';
        else value += c;
        break;
      case 'dq':
        if (c === '"') state = 'preValue';
        else if (c === '\\') state = 'dqEscape';
        else value += c;
        break;
      case 'dqEscape':
        state = 'dq';
        if (NEED_ESCAPE.includes(c)) value += c;
        else if (c !== '\n') value += '\\' + c;
        break;
      case 'comment':
        if (c === '\\') state = 'commentEscape';
        else if (NL.includes(c)) state = 'preKey';
        break;
      case 'commentEscape':
        state = 'comment';
        break;
    }
  }
  if (state === 'value' && valueWs >= 0) value = value.slice(0, valueWs);
  if (['preValue', 'value', 'valueEscape', 'sq', 'dq', 'dqEscape'].includes(state)) push();

  const vars: Record<string, string> = {};
  const ignored: string[] = [];
  for (const [k, v] of pairs) {
    if (ENV_NAME_RE.test(k)) vars[k] = v;
    else ignored.push(`${k}=${v}`);
  }
  return { vars, ignored };
}

export interface LoadedEnvironmentFiles {
  /** Variables from all files, later files winning. */
  vars: Record<string, { value: string; path: string }>;
  /** Files that do not exist (fatal at start unless optional). */
  missing: EnvironmentFileRef[];
}

/** Read the unit's EnvironmentFile= entries under the root (no glob expansion). */
export async function readEnvironmentFiles(fs: RootedFs, refs: EnvironmentFileRef[]): Promise<LoadedEnvironmentFiles> {
  const out: LoadedEnvironmentFiles = { vars: {}, missing: [] };
  for (const ref of refs) {
    if (!path.posix.isAbsolute(ref.path)) continue; // systemd rejects relative paths at load time
    const text = await fs.readTextIfExists(ref.path);
    if (text === null) {
      out.missing.push(ref);
      continue;
    }
    for (const [k, v] of Object.entries(parseEnvironmentFile(text).vars)) out.vars[k] = { value: v, path: ref.path };
  }
  return out;
}
