// EnvironmentFile= parsing vs systemd 252: generated env files are loaded by a transient
// service (systemd-run -p EnvironmentFile=…) that prints its environment; the NWF* variables
// it sees must equal parseEnvironmentFile().
import { afterAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnvironmentFile } from '../../../systemd/environment-file.js';
import { environmentFileText } from '../../fixtures/units/generate.js';
import { inside, lab } from './lab.js';

const COUNT = Number(process.env.NW_ENVFILE_RUNS ?? (process.env.CI === 'true' ? 60 : 25));
const SEED = Number(process.env.NW_DIFF_SEED ?? Date.now() % 1_000_000);
const FILE = '/etc/nwfx-envfile';

function processEnv(): Record<string, string> {
  const out = inside(['systemd-run', '--quiet', '--pipe', '--wait', '--collect', '-p', `EnvironmentFile=${FILE}`, '/usr/bin/env', '-0']);
  const env: Record<string, string> = {};
  for (const a of out.split('\0')) {
    const eq = a.indexOf('=');
    if (eq > 0 && a.startsWith('NWF')) env[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return env;
}

describe(`EnvironmentFile= (seed ${SEED}, ${COUNT} files; rerun with NW_DIFF_SEED=${SEED})`, () => {
  afterAll(() => rmSync(path.join(lab().etc, 'nwfx-envfile'), { force: true }));

  test('our parser == the environment systemd gives the process', () => {
    const texts = [
      'NWFA=1\n  NWFB = two words  \nNWFC="q \\"x\\" \\$y \\n"\nNWFD=\'lit \\n\'\nNWFE=a\\\nb\n# c \\\nNWFF=swallowed?\nNWF-BAD=x\n',
      ...fc.sample(environmentFileText, { numRuns: COUNT, seed: SEED }),
    ];
    for (const t of texts) {
      writeFileSync(path.join(lab().etc, 'nwfx-envfile'), t);
      const ours = Object.fromEntries(Object.entries(parseEnvironmentFile(t).vars).filter(([k]) => k.startsWith('NWF')));
      expect(ours, JSON.stringify(t)).toEqual(processEnv());
    }
  });
});
