// Reading the operator's input files: a missing or unreadable file is NW_USAGE naming what it was.
import { readFile } from 'node:fs/promises';
import { NwError } from '../../host/errors.js';

export async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new NwError('NW_USAGE', `cannot read ${what} ${file} (${(e as NodeJS.ErrnoException).code})`);
  }
}
