// A unit and its drop-ins as text, read through the rooted filesystem.
import path from 'node:path';
import type { RootedFs } from '../host/fs.js';
import { NwError } from '../host/errors.js';

/** One file; path as the worker sees it (inside --root). */
export interface UnitSource {
  path: string;
  text: string;
}

/** The main unit file plus NAME.service.d/*.conf drop-ins in lexical order. */
export interface UnitSources {
  main: UnitSource;
  dropIns: UnitSource[];
}

export const dropInDirOf = (unitPath: string): string => unitPath + '.d';

export async function loadUnitSources(fs: RootedFs, unitPath: string): Promise<UnitSources> {
  if (!(await fs.exists(unitPath))) {
    throw new NwError('NW_USAGE', `unit file ${unitPath} does not exist under root ${fs.root}: give the path of the unit to edit`);
  }
  const main = { path: unitPath, text: await readUtf8(fs, unitPath) };
  const dir = dropInDirOf(unitPath);
  const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.conf')).sort(byteOrder);
  const dropIns: UnitSource[] = [];
  for (const n of names) {
    const p = path.posix.join(dir, n);
    dropIns.push({ path: p, text: await readUtf8(fs, p) });
  }
  return { main, dropIns };
}

/** systemd sorts drop-ins by file name with strcmp(). */
export const byteOrder = (a: string, b: string): number => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
};

export const allSources = (src: UnitSources): UnitSource[] => [src.main, ...src.dropIns];

async function readUtf8(fs: RootedFs, p: string): Promise<string> {
  const buf = await fs.readFile(p);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf);
  } catch {
    throw new NwError('NW_UNIT_PARSE', `${p}: not valid UTF-8; nodewright edits only UTF-8 unit files: fix the encoding first`);
  }
}
