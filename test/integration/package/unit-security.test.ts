// The packaged units (systemd/units/* with ExecStart into /opt/nodewright, package/layout.ts) keep
// the shipped hardening: scored by the real `systemd-analyze security --offline=true` (systemd 252).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPONENTS, packagedUnit } from '../../../package/layout.js';

const TARGETS = { agent: 2.1, controller: 1.6 } as const;

describe('packaged units', () => {
  for (const c of Object.values(COMPONENTS)) {
    it(`${c.unit} in the ${c.component} package scores ≤ ${TARGETS[c.component]}`, () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'nw-unit-'));
      const unit = path.join(dir, c.unit);
      writeFileSync(unit, packagedUnit(readFileSync(path.resolve('systemd/units', c.unit), 'utf8'), c));
      const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', unit], { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SYSTEMD_COLORS: '0' } });
      if (r.error) throw new Error(`systemd-analyze is missing (apt-get install systemd): ${r.error.message}`);
      const m = /Overall exposure level for \S+: (\d+\.\d) (\S+)/.exec(r.stdout);
      expect(m, `${r.stdout}${r.stderr}`).not.toBeNull();
      process.stdout.write(`systemd-analyze security (packaged) ${c.unit}: ${m![1]} ${m![2]} (target ≤ ${TARGETS[c.component]})\n`);
      expect(Number(m![1])).toBeLessThanOrEqual(TARGETS[c.component]);
    });
  }
});
