// Least privilege of the shipped agent unit, scored by the real `systemd-analyze security
// --offline=true` (systemd 252): must stay at or below 4.9 ("OK"). The score is printed.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const UNIT = path.resolve('systemd/units/nodewright-agent.service');
const TARGET = 4.9;

describe('systemd/units/nodewright-agent.service', () => {
  it(`systemd-analyze security --offline=true scores ≤ ${TARGET}`, () => {
    const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', UNIT], { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SYSTEMD_COLORS: '0' } });
    if (r.error) throw new Error(`systemd-analyze is missing (apt-get install systemd): ${r.error.message}`);
    const m = /Overall exposure level for \S+: (\d+\.\d) (\S+)/.exec(r.stdout);
    expect(m, `${r.stdout}${r.stderr}`).not.toBeNull();
    const score = Number(m![1]);
    process.stdout.write(`systemd-analyze security nodewright-agent.service: ${score} ${m![2]} (target ≤ ${TARGET})\n`);
    expect(score, r.stdout).toBeLessThanOrEqual(TARGET);
    // the settings docs/agent.md promises are the ones scored
    for (const s of ['CapabilityBoundingSet=~CAP_SYS_ADMIN', 'SystemCallFilter=~@mount', 'RestrictNamespaces=~user', 'PrivateDevices=', 'ProtectClock=', 'ProtectKernelLogs=']) {
      expect(r.stdout.split('\n').find((l) => l.includes(s) && l.includes('✓')), s).toBeDefined();
    }
  });
});
